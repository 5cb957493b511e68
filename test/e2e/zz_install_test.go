package e2e

// The install's life cycle on the test cluster: backup and restore,
// upgrade, uninstall (then install again, as hack/cluster/deploy.sh does,
// for whatever runs after). Named zz_ to run last among the sequential
// suites: they take arl-system down.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func repoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// etcdServerPods selects the StatefulSet's etcd pods, not the maintenance
// CronJobs' (same name label): a scheduled backup's completed pod stays
// for its Job's history, and waiting for "no etcd pods" then never ends.
const etcdServerPods = "app.kubernetes.io/name=arl-etcd,app.kubernetes.io/component!=etcd-maintenance"

// scaleAndWait scales an arl-system workload and waits until its pods are
// gone (n=0) or rolled out.
func scaleAndWait(t *testing.T, workload, selector string, n int) {
	t.Helper()
	kubectl(t, "scale", "-n", arlSystem, workload, fmt.Sprintf("--replicas=%d", n))
	if n == 0 {
		waitFor(t, 3*time.Minute, workload+" has no pods", func() (bool, string) {
			pods, err := tryListPods(arlSystem, selector)
			return err == nil && len(pods) == 0, fmt.Sprintf("%d pods, %v", len(pods), err)
		})
		return
	}
	kubectl(t, "rollout", "status", "-n", arlSystem, workload, "--timeout=300s")
}

// TestBackupAndRestore saves a snapshot with the backup CronJob's job,
// loses etcd's volume, restores the snapshot into an empty one by the
// documented procedure (artifacts/restore), and finds every object and
// Task result again, the Sandboxes still on their pods.
func TestBackupAndRestore(t *testing.T) {
	requireARL(t)
	c := newClients(t)
	ns := newNamespace(t, "restore")
	chaosPool(t, c, ns, 2)
	before := baseline(t, c, ns, 2)
	// The pods to find again are those of the settled pool: its refill
	// after the baseline's binds may create a pod for a Sandbox that then
	// took an idle one, and delete it as excess.
	waitPool(t, ns, poolName, 2, 2)
	podsBefore := poolPodStates(t, ns)

	job := "e2e-backup-" + randSuffix()
	kubectl(t, "create", "job", "-n", arlSystem, "--from=cronjob/arl-etcd-backup", job)
	kubectl(t, "wait", "-n", arlSystem, "--for=condition=Complete", "job/"+job, "--timeout=180s")
	logs := kubectl(t, "logs", "-n", arlSystem, "job/"+job)
	m := regexp.MustCompile(`path="[^"]*/(arl-etcd-[0-9TZ]+\.db)"`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("the backup job did not say where it saved the snapshot:\n%s", logs)
	}
	kubectl(t, "delete", "job", "-n", arlSystem, job)

	// The disaster: etcd's volume is lost.
	t.Cleanup(func() {
		if t.Failed() {
			// Whatever step failed, the later tests need the servers back
			// (best effort: from an empty store arl-apiserver may still refuse).
			runKubectl(kubeconfig, "", "scale", "-n", arlSystem, "statefulset/arl-etcd", "--replicas=1")
			runKubectl(kubeconfig, "", "scale", "-n", arlSystem, arlDeployment, "--replicas=2")
			runKubectl(kubeconfig, "", "rollout", "status", "-n", arlSystem, arlDeployment, "--timeout=300s")
		}
	})
	t0 := time.Now()
	scaleAndWait(t, arlDeployment, arlServerPods, 0)
	scaleAndWait(t, "statefulset/arl-etcd", etcdServerPods, 0)
	kubectl(t, "delete", "pvc", "-n", arlSystem, "data-arl-etcd-0", "--wait=true")

	// The restore, as docs/operations.md says.
	manifest, err := os.ReadFile(repoPath(t, "artifacts/restore/etcd-restore.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	kubectlIn(t, strings.ReplaceAll(string(manifest), "SNAPSHOT_FILE", m[1]), "apply", "-f", "-")
	r := runKubectl(kubeconfig, "", "wait", "-n", arlSystem, "--for=condition=Complete", "job/arl-etcd-restore-0", "--timeout=180s")
	if r.err != nil {
		t.Fatalf("restore job: %s\n%s", r, kubectl(t, "logs", "-n", arlSystem, "job/arl-etcd-restore-0"))
	}
	kubectl(t, "delete", "job", "-n", arlSystem, "arl-etcd-restore-0")
	scaleAndWait(t, "statefulset/arl-etcd", etcdServerPods, 1)
	kubectl(t, "delete", "configmap", "-n", arlSystem, "arl-store-identity", "--ignore-not-found")
	scaleAndWait(t, arlDeployment, arlServerPods, 2)
	waitARLServers(t, 2)
	restored := time.Since(t0)

	lost := checkInventory(t, c, ns, before)
	for name, was := range podsBefore {
		if now, ok := poolPodStates(t, ns)[name]; !ok || now.uid != was.uid {
			t.Errorf("pod %s changed across the restore: %+v -> %+v", name, was, now)
		}
	}
	// ARL works on the restored store: a bind and a Task.
	if o := bind(context.Background(), c, ns, "after-restore"); !o.ok {
		t.Errorf("bind after the restore: %s", o.lastErr)
	}
	figure(t, "backup, lose etcd's volume, restore into an empty etcd", lost, nil, nil, restored,
		"recovery: from scaling arl-apiserver down to serving the restored store")
}

// TestInstallUpgradeUninstall upgrades the install to new images under
// steady binds and Tasks (every object kept, stored as arl.infra.io/v1alpha1),
// uninstalls it (nothing left: no pod, APIService, webhook, cluster-wide
// object or sidecar Secret), and installs it again.
func TestInstallUpgradeUninstall(t *testing.T) {
	requireARL(t)
	if os.Geteuid() != 0 {
		t.Skip("tagging images in the test cluster's containerd needs root")
	}
	c := newClients(t)
	ns := newNamespace(t, "upgrade")
	chaosPool(t, c, ns, 3)
	before := baseline(t, c, ns, 2)

	// Storage version: what is in etcd is arl.infra.io/v1alpha1.
	stored := kubectl(t, "exec", "-n", arlSystem, "arl-etcd-0", "--", "etcdctl", "--endpoints=https://127.0.0.1:2379",
		"--cacert=/var/run/etcd/tls/ca.crt", "--cert=/var/run/etcd/tls/tls.crt", "--key=/var/run/etcd/tls/tls.key",
		"get", "/registry/arl.infra.io/arl.infra.io/warmpools/"+ns+"/"+poolName, "--print-value-only")
	if !strings.Contains(stored, `"apiVersion":"arl.infra.io/v1alpha1"`) {
		t.Errorf("the stored WarmPool is not arl.infra.io/v1alpha1: %.300s", stored)
	}

	// The next release: the same manifests with new image tags.
	const next = "v0.1.0-e2e-upgrade"
	for _, img := range []string{"arl-apiserver", "arl-sidecar"} {
		ref := "ghcr.io/arl-infra/" + img
		out, err := exec.Command("bash", "-c", fmt.Sprintf(`source %q && arl::ctr images tag --force %s:v0.1.0 %s:%s`,
			repoPath(t, "hack/cluster/lib.sh"), ref, ref, next)).CombinedOutput()
		if err != nil {
			t.Fatalf("tagging %s: %v\n%s", ref, err, out)
		}
	}
	overlay := t.TempDir()
	rel, err := filepath.Rel(overlay, repoPath(t, "artifacts/deploy"))
	if err != nil {
		t.Fatal(err)
	}
	kustomization := fmt.Sprintf("resources: [%s]\nimages:\n- name: ghcr.io/arl-infra/arl-apiserver\n  newTag: %s\n", rel, next)
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tasks, twg := steadyTasks(ctx, c, ns, []string{"kept-0"})
	binds, bwg := steadyBinds(ctx, c, ns, 1)
	successesAfter(t, tasks, time.Now(), 3, "Tasks")
	t0 := time.Now()
	kubectl(t, "apply", "-k", overlay)
	kubectl(t, "rollout", "status", "-n", arlSystem, arlDeployment, "--timeout=300s")
	waitARLServers(t, 2)
	upgraded := time.Since(t0)
	end := successesAfter(t, tasks, time.Now(), 3, "Tasks")
	stop()
	twg.Wait()
	bwg.Wait()
	tr, br := tasks.report(t0, end), binds.report(t0, end)
	checkLoad(t, "tasks", tasks, tr)
	checkLoad(t, "binds", binds, br)
	lost := checkInventory(t, c, ns, before)
	image := kubectl(t, "get", "-n", arlSystem, arlDeployment, "-o", "jsonpath={.spec.template.spec.containers[0].image}")
	if !strings.HasSuffix(image, ":"+next) {
		t.Errorf("arl-apiserver runs %s after the upgrade", image)
	}
	figure(t, "upgrade (kubectl apply -k with new images) during steady binds and Tasks", lost, &br, &tr, upgraded,
		"recovery: until the rollout finished")

	// Uninstall.
	t1 := time.Now()
	uninstallARL(t, repoPath(t, "artifacts/deploy"))
	uninstalled := time.Since(t1)

	// Install again, as the test cluster has it.
	t2 := time.Now()
	deployARL(t, "")
	figure(t, "uninstall, then install again", 0, nil, nil, time.Since(t2),
		fmt.Sprintf("uninstall took %s, nothing left", uninstalled.Round(time.Second)))
}

// uninstallARL deletes the install made from kustomization and checks that
// nothing of it is left: no namespace, pool pod, sidecar Secret, APIService,
// webhook, cluster-wide object or bound volume.
func uninstallARL(t *testing.T, kustomization string) {
	t.Helper()
	kubectl(t, "delete", "-k", kustomization, "--wait=true", "--timeout=300s")
	waitFor(t, 3*time.Minute, "namespace arl-system gone", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "get", "namespace", arlSystem)
		return r.err != nil && strings.Contains(r.stderr, "NotFound"), r.String()
	})
	waitFor(t, 3*time.Minute, "no pool pod and no sidecar Secret left in any namespace", func() (bool, string) {
		pods := runKubectl(kubeconfig, "", "get", "pods", "-A", "-l", labelPool, "-o", "name")
		secrets := runKubectl(kubeconfig, "", "get", "secrets", "-A", "--field-selector", "metadata.name=arl-sidecar-tls", "-o", "name")
		return pods.err == nil && secrets.err == nil && strings.TrimSpace(pods.stdout+secrets.stdout) == "", pods.stdout + secrets.stdout
	})
	for _, check := range [][]string{
		{"get", "apiservices", "-o", "name"},
		{"get", "validatingwebhookconfigurations,mutatingwebhookconfigurations", "-o", "name"},
		{"get", "clusterroles,clusterrolebindings,priorityclasses", "-l", "app.kubernetes.io/part-of=arl", "-o", "name"},
		{"get", "pv", "-o", "jsonpath={range .items[?(@.status.phase==\"Bound\")]}{.metadata.name}{\"\\n\"}{end}"},
	} {
		if out := kubectl(t, check...); strings.Contains(out, "arl") {
			t.Errorf("left behind after the uninstall (kubectl %v):\n%s", check, out)
		}
	}
	if out := kubectl(t, "get", "clusterroles", "-o", "name"); regexp.MustCompile(`/arl-(apiserver|view|edit|admin)`).MatchString(out) {
		t.Errorf("ARL's ClusterRoles left behind:\n%s", out)
	}
}

// deployARL installs ARL from kustomization (artifacts/deploy when empty)
// with hack/cluster/deploy.sh, which also provides the test cluster's
// volumes and waits until ARL serves.
func deployARL(t *testing.T, kustomization string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("deploying into the test cluster needs root")
	}
	cmd := exec.Command(repoPath(t, "hack/cluster/deploy.sh"))
	cmd.Env = append(os.Environ(), "ARL_DEPLOY_KUSTOMIZATION="+kustomization)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("deploy.sh (%s): %v\n%s", kustomization, err, out)
	}
}

// TestChaosDeleteEtcdLeaderOfThree installs ARL with three etcd members
// (components/etcd-3-members), deletes the member that leads the etcd
// cluster during steady binds and Tasks, and checks that the other two
// kept ARL serving: no object lost, no bind or Task given up. Then it puts
// back the default install for whatever runs after.
func TestChaosDeleteEtcdLeaderOfThree(t *testing.T) {
	requireARL(t)
	if os.Geteuid() != 0 {
		t.Skip("deploying into the test cluster needs root")
	}
	overlay := t.TempDir()
	rel, err := filepath.Rel(overlay, repoPath(t, "artifacts/deploy"))
	if err != nil {
		t.Fatal(err)
	}
	kustomization := fmt.Sprintf("resources: [%s]\ncomponents: [%s/components/etcd-3-members]\n", rel, rel)
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o644); err != nil {
		t.Fatal(err)
	}
	uninstallARL(t, repoPath(t, "artifacts/deploy"))
	t.Cleanup(func() {
		uninstallARL(t, overlay)
		deployARL(t, "")
	})
	deployARL(t, overlay)
	if n := len(etcdMembers(t)); n != 3 {
		t.Fatalf("the three-member install has %d etcd members", n)
	}
	waitARLServers(t, 2)

	c := newClients(t)
	ns := newNamespace(t, "chaos-etcd3")
	chaosPool(t, c, ns, 3)
	before := baseline(t, c, ns, 2)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tasks, twg := steadyTasks(ctx, c, ns, []string{"kept-0"})
	binds, bwg := steadyBinds(ctx, c, ns, 1)
	successesAfter(t, binds, time.Now(), 3, "binds")
	successesAfter(t, tasks, time.Now(), 3, "Tasks")

	leader := etcdLeader(t)
	uid := etcdPodUID(t, leader)
	t0 := time.Now()
	kubectl(t, "delete", "pod", "-n", arlSystem, leader, "--wait=false")
	waitEtcdReady(t, leader, uid)
	etcdBack := time.Since(t0)
	successesAfter(t, binds, time.Now(), 3, "binds")
	end := successesAfter(t, tasks, time.Now(), 3, "Tasks")
	stop()
	twg.Wait()
	bwg.Wait()

	br, tr := binds.report(t0, end), tasks.report(t0, end)
	checkLoad(t, "binds", binds, br)
	checkLoad(t, "tasks", tasks, tr)
	lost := checkInventory(t, c, ns, before)
	if n := len(etcdMembers(t)); n != 3 {
		t.Errorf("after the chaos the etcd cluster has %d members", n)
	}
	recovered := br.gapStart.Add(br.longestGap)
	if te := tr.gapStart.Add(tr.longestGap); te.After(recovered) {
		recovered = te
	}
	figure(t, "delete the etcd leader of three members during steady binds and Tasks", lost, &br, &tr, recovered.Sub(t0),
		fmt.Sprintf("member %s Ready again after %s", leader, etcdBack.Round(100*time.Millisecond)))
}

// etcdStatus is one member in `etcdctl endpoint status --cluster -w json`.
type etcdStatus struct {
	Endpoint string `json:"Endpoint"`
	Status   struct {
		Header struct {
			MemberID uint64 `json:"member_id"`
		} `json:"header"`
		Leader uint64 `json:"leader"`
	} `json:"Status"`
}

// etcdctl runs etcdctl in the first Ready etcd member, with its certificate.
func etcdctl(t *testing.T, args ...string) string {
	t.Helper()
	var out string
	waitFor(t, time.Minute, "etcdctl "+strings.Join(args, " "), func() (bool, string) {
		for _, m := range []string{"arl-etcd-0", "arl-etcd-1", "arl-etcd-2"} {
			r := runKubectl(kubeconfig, "", append([]string{"exec", "-n", arlSystem, m, "--", "etcdctl",
				"--endpoints=https://127.0.0.1:2379", "--cacert=/var/run/etcd/tls/ca.crt",
				"--cert=/var/run/etcd/tls/tls.crt", "--key=/var/run/etcd/tls/tls.key"}, args...)...)
			if r.err == nil {
				out = r.stdout
				return true, ""
			}
			out = r.String()
		}
		return false, out
	})
	return out
}

// etcdMembers is every member's status, as the members report it.
func etcdMembers(t *testing.T) []etcdStatus {
	t.Helper()
	var members []etcdStatus
	if err := json.Unmarshal([]byte(etcdctl(t, "endpoint", "status", "--cluster", "-w", "json")), &members); err != nil {
		t.Fatalf("etcdctl endpoint status: %v", err)
	}
	return members
}

// etcdLeader is the pod of the member that leads the etcd cluster.
func etcdLeader(t *testing.T) string {
	t.Helper()
	for _, m := range etcdMembers(t) {
		if m.Status.Header.MemberID == m.Status.Leader {
			// https://arl-etcd-N.arl-etcd-peer.arl-system.svc:2379
			host := strings.TrimPrefix(m.Endpoint, "https://")
			pod, _, _ := strings.Cut(host, ".")
			return pod
		}
	}
	t.Fatal("no etcd member says it is the leader")
	return ""
}

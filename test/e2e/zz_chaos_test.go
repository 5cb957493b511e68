package e2e

// Chaos on the test cluster (named zz_ to run after the other sequential
// suites: they disturb arl-system). Each case keeps a load going, breaks
// something, waits until ARL serves again, and checks that every object
// and Task result made before is still there, that no client gave up on
// a bind or a Task (clients retry for opRetryFor), and that no pod was
// ever held by two Sandboxes at once. Each logs its figures as a
// "FIGURE" line (docs/operations.md has them).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// figure logs (and, with ARL_CHAOS_REPORT=file, appends to file) one
// chaos case's figures. Recovery, unless a case says otherwise, is the end
// of the longest gap without a success, from the moment of the disruption.
func figure(t *testing.T, name string, lost int, binds, tasks *loadReport, recovery time.Duration, extra string) {
	t.Helper()
	line := fmt.Sprintf("FIGURE %s: objects lost %d", name, lost)
	if binds != nil {
		line += fmt.Sprintf("; binds %s", binds)
	}
	if tasks != nil {
		line += fmt.Sprintf("; tasks %s", tasks)
	}
	line += fmt.Sprintf("; recovered in %s", recovery.Round(100*time.Millisecond))
	if extra != "" {
		line += "; " + extra
	}
	t.Log(line)
	if path := os.Getenv("ARL_CHAOS_REPORT"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			_, _ = fmt.Fprintln(f, line)
			_ = f.Close()
		}
	}
}

// successesAfter waits until the load has n successes that ended after since.
func successesAfter(t *testing.T, log *opLog, since time.Time, n int, what string) time.Time {
	t.Helper()
	var last time.Time
	waitFor(t, 3*time.Minute, fmt.Sprintf("%d successful %s after %s", n, what, since.Format(time.StampMilli)), func() (bool, string) {
		count := 0
		for _, o := range log.snapshot() {
			if o.ok && o.end.After(since) {
				count++
				if o.end.After(last) {
					last = o.end
				}
			}
		}
		return count >= n, fmt.Sprintf("%d so far", count)
	})
	return last
}

// checkLoad fails the test for given-up operations and double binds.
func checkLoad(t *testing.T, what string, log *opLog, r loadReport) {
	t.Helper()
	if r.failed > 0 {
		t.Errorf("%s: %d operations failed after retrying for %s: %v", what, r.failed, opRetryFor, r.failures)
	}
	if d := doubleBinds(log.snapshot()); len(d) > 0 {
		t.Errorf("%s: pods bound twice: %v", what, d)
	}
}

func checkInventory(t *testing.T, c clients, ns string, before inventory) int {
	t.Helper()
	lost := before.lost(takeInventory(t, c, ns))
	if len(lost) > 0 {
		t.Errorf("objects lost or changed: %v", lost)
	}
	return len(lost)
}

func etcdPodUID(t *testing.T, name string) string {
	return strings.TrimSpace(kubectl(t, "get", "pod", "-n", arlSystem, name, "-o", "jsonpath={.metadata.uid}"))
}

// waitEtcdReady waits until every arl-etcd member is Ready (a new pod of
// `replaced` when given).
func waitEtcdReady(t *testing.T, replaced, oldUID string) {
	t.Helper()
	waitFor(t, 3*time.Minute, "arl-etcd Ready again", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "get", "pod", "-n", arlSystem, replaced, "-o",
			`jsonpath={.metadata.uid} {.status.conditions[?(@.type=="Ready")].status}`)
		f := strings.Fields(r.stdout)
		return r.err == nil && len(f) == 2 && f[0] != oldUID && f[1] == "True", r.String()
	})
}

// TestChaosDeleteEtcdPod deletes the etcd member during steady binds: its
// data is on its volume, so it comes back with every object, and the store
// guard recognises it.
func TestChaosDeleteEtcdPod(t *testing.T) {
	requireARL(t)
	c := newClients(t)
	ns := newNamespace(t, "chaos-etcd")
	chaosPool(t, c, ns, 3)
	before := baseline(t, c, ns, 2)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	binds, wg := steadyBinds(ctx, c, ns, 2)
	successesAfter(t, binds, time.Now(), 5, "binds")

	uid := etcdPodUID(t, "arl-etcd-0")
	t0 := time.Now()
	kubectl(t, "delete", "pod", "-n", arlSystem, "arl-etcd-0", "--wait=false")
	waitEtcdReady(t, "arl-etcd-0", uid)
	etcdBack := time.Since(t0)
	end := successesAfter(t, binds, time.Now(), 5, "binds")
	stop()
	wg.Wait()

	r := binds.report(t0, end)
	checkLoad(t, "binds", binds, r)
	lost := checkInventory(t, c, ns, before)
	figure(t, "delete the etcd pod during steady binds", lost, &r, nil, r.gapStart.Add(r.longestGap).Sub(t0),
		fmt.Sprintf("etcd member Ready again after %s", etcdBack.Round(100*time.Millisecond)))
}

// leaderPod is the arl-apiserver pod holding the pool manager's Lease.
func leaderPod(t *testing.T) string {
	t.Helper()
	var holder string
	waitFor(t, time.Minute, "a pool manager leader", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "get", "lease", "-n", arlSystem, "arl-pool-manager", "-o", "jsonpath={.spec.holderIdentity}")
		holder = strings.TrimSpace(r.stdout)
		return r.err == nil && holder != "", r.String()
	})
	pod, _, _ := strings.Cut(holder, "_")
	return pod
}

// TestChaosDeleteLeaderDuringBurst deletes the pool manager's leader while
// a burst of Sandboxes, more than the pool holds, waits for pods.
func TestChaosDeleteLeaderDuringBurst(t *testing.T) {
	requireARL(t)
	c := newClients(t)
	ns := newNamespace(t, "chaos-leader")
	chaosPool(t, c, ns, 3)
	before := baseline(t, c, ns, 1)
	leader := leaderPod(t)

	const burst = 8
	log := &opLog{}
	done := make(chan struct{})
	t0 := time.Now()
	for i := 0; i < burst; i++ {
		go func(i int) {
			log.add(bind(context.Background(), c, ns, fmt.Sprintf("burst-%d", i)))
			done <- struct{}{}
		}(i)
	}
	kubectl(t, "delete", "pod", "-n", arlSystem, leader, "--wait=false")
	for i := 0; i < burst; i++ {
		<-done
	}
	end := time.Now()
	r := log.report(t0, end)
	checkLoad(t, "burst", log, r)
	// The deleted pod drains first (it finishes its work, then releases
	// the Lease), which may outlast the burst: another replica must lead
	// by the end of its grace period.
	waitFor(t, 2*time.Minute, "a replica other than the deleted "+leader+" to lead", func() (bool, string) {
		newLeader := leaderPod(t)
		return newLeader != leader, "leader " + newLeader
	})
	pods := map[string]string{}
	for _, o := range log.snapshot() {
		if other, dup := pods[o.podUID]; dup && o.ok {
			t.Errorf("pod %s bound to %s and %s", o.pod, other, o.name)
		}
		pods[o.podUID] = o.name
	}
	lost := checkInventory(t, c, ns, before)
	waitARLServers(t, 2)
	figure(t, "delete the arl-apiserver leader during a burst of 8 Sandboxes", lost, &r, nil, end.Sub(t0),
		"recovery: until the last Sandbox of the burst was Ready")
}

// TestChaosRolloutRestartDuringTasks restarts arl-apiserver as an operator
// does while Tasks and binds run: no Task fails, no bind is given up.
func TestChaosRolloutRestartDuringTasks(t *testing.T) {
	requireARL(t)
	c := newClients(t)
	ns := newNamespace(t, "chaos-rollout")
	chaosPool(t, c, ns, 4)
	before := baseline(t, c, ns, 2)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tasks, twg := steadyTasks(ctx, c, ns, []string{"kept-0", "kept-1"})
	binds, bwg := steadyBinds(ctx, c, ns, 1)
	successesAfter(t, tasks, time.Now(), 5, "Tasks")

	old := arlServerPodNames(t)
	t0 := time.Now()
	kubectl(t, "rollout", "restart", "-n", arlSystem, arlDeployment)
	kubectl(t, "rollout", "status", "-n", arlSystem, arlDeployment, "--timeout=300s")
	waitFor(t, 3*time.Minute, "the old arl-apiserver pods gone", func() (bool, string) {
		now, err := tryListPods(arlSystem, arlServerPods)
		if err != nil {
			return false, err.Error()
		}
		for _, p := range now {
			for _, o := range old {
				if p.Metadata.Name == o {
					return false, o + " still there"
				}
			}
		}
		return true, ""
	})
	rolled := time.Since(t0)
	end := successesAfter(t, tasks, time.Now(), 5, "Tasks")
	stop()
	twg.Wait()
	bwg.Wait()

	tr, br := tasks.report(t0, end), binds.report(t0, end)
	checkLoad(t, "tasks", tasks, tr)
	checkLoad(t, "binds", binds, br)
	lost := checkInventory(t, c, ns, before)
	figure(t, "kubectl rollout restart arl-apiserver during steady Tasks and binds", lost, &br, &tr, rolled,
		"recovery: until the rollout finished and the old pods were gone")
}

// hackCluster runs a hack/cluster script (the test cluster's daemons run as
// root on this machine, as the test does).
func hackCluster(t *testing.T, script string, args ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("restarting the test cluster's daemons needs root")
	}
	path, err := filepath.Abs(filepath.Join("..", "..", "hack", "cluster", script))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", script, args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestChaosRestartKubeAPIServer restarts kube-apiserver (ARL's way in, and
// where pods are created and labelled) during steady binds and Tasks.
func TestChaosRestartKubeAPIServer(t *testing.T) {
	requireARL(t)
	c := newClients(t)
	ns := newNamespace(t, "chaos-kas")
	chaosPool(t, c, ns, 3)
	before := baseline(t, c, ns, 1)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tasks, twg := steadyTasks(ctx, c, ns, []string{"kept-0"})
	binds, bwg := steadyBinds(ctx, c, ns, 1)
	successesAfter(t, binds, time.Now(), 3, "binds")

	t0 := time.Now()
	out := hackCluster(t, "restart.sh", "kube-apiserver")
	end := successesAfter(t, binds, time.Now(), 3, "binds")
	successesAfter(t, tasks, time.Now(), 3, "Tasks")
	stop()
	twg.Wait()
	bwg.Wait()

	tr, br := tasks.report(t0, end), binds.report(t0, end)
	checkLoad(t, "tasks", tasks, tr)
	checkLoad(t, "binds", binds, br)
	lost := checkInventory(t, c, ns, before)
	figure(t, "restart kube-apiserver during steady binds and Tasks", lost, &br, &tr, br.gapStart.Add(br.longestGap).Sub(t0), out)
}

type podState struct {
	uid      string
	restarts string
}

// readyPoolPodStates are the pool pods that are Ready: a pod still being
// started when containerd restarts may fail to start (RunContainerError)
// and be replaced, which is not a sandbox lost.
func readyPoolPodStates(t *testing.T, ns string) map[string]podState {
	t.Helper()
	out := kubectl(t, "get", "pods", "-n", ns, "-l", labelPool, "-o",
		`jsonpath={range .items[*]}{.metadata.name} {.metadata.uid} {range .status.containerStatuses[*]}{.restartCount},{end} {.status.conditions[?(@.type=="Ready")].status} {.metadata.deletionTimestamp}{"\n"}{end}`)
	states := map[string]podState{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		// A pod being deleted (an excess idle pod) is not one to keep.
		if f := strings.Fields(line); len(f) == 4 && f[3] == "True" {
			states[f[0]] = podState{uid: f[1], restarts: f[2]}
		}
	}
	return states
}

// poolPodStates are all the pool pods, Ready or not, but those being
// deleted.
func poolPodStates(t *testing.T, ns string) map[string]podState {
	t.Helper()
	out := kubectl(t, "get", "pods", "-n", ns, "-l", labelPool, "-o",
		`jsonpath={range .items[*]}{.metadata.name} {.metadata.uid} {range .status.containerStatuses[*]}{.restartCount},{end} {.metadata.deletionTimestamp}{"\n"}{end}`)
	states := map[string]podState{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			states[f[0]] = podState{uid: f[1], restarts: f[2]}
		}
	}
	return states
}

// TestChaosRestartKubeletAndContainerd restarts the node's kubelet, then
// containerd, during steady Tasks: the sandboxes' containers outlive both
// (same pods, no container restarted), and so does every object.
func TestChaosRestartKubeletAndContainerd(t *testing.T) {
	requireARL(t)
	c := newClients(t)
	ns := newNamespace(t, "chaos-node")
	chaosPool(t, c, ns, 2)
	before := baseline(t, c, ns, 2)
	podsBefore := readyPoolPodStates(t, ns)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tasks, twg := steadyTasks(ctx, c, ns, []string{"kept-0", "kept-1"})
	successesAfter(t, tasks, time.Now(), 3, "Tasks")

	t0 := time.Now()
	kubelet := hackCluster(t, "restart.sh", "kubelet")
	containerd := hackCluster(t, "restart.sh", "containerd")
	waitFor(t, 2*time.Minute, "node Ready", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "get", "nodes", "-o", `jsonpath={.items[0].status.conditions[?(@.type=="Ready")].status}`)
		return r.stdout == "True", r.String()
	})
	end := successesAfter(t, tasks, time.Now(), 5, "Tasks")
	stop()
	twg.Wait()

	tr := tasks.report(t0, end)
	checkLoad(t, "tasks", tasks, tr)
	lost := checkInventory(t, c, ns, before)
	for name, was := range podsBefore {
		now, ok := poolPodStates(t, ns)[name]
		if !ok || now != was {
			t.Errorf("pod %s was %+v, now %+v (present %v): a sandbox did not outlive the restarts", name, was, now, ok)
		}
	}
	figure(t, "restart kubelet, then containerd, during steady Tasks", lost, nil, &tr,
		tr.gapStart.Add(tr.longestGap).Sub(t0), kubelet+"; "+containerd)
}

// TestEtcdRefusesClientsWithoutCertificate: a pod without a client
// certificate cannot read ARL's etcd (TLS client authentication), while a
// holder of one can. (The NetworkPolicy that also keeps such pods out is
// not enforced by this test cluster's network: a plain bridge.)
func TestEtcdRefusesClientsWithoutCertificate(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "etcd-closed")
	base := "https://arl-etcd.arl-system.svc:2379"
	script := strings.Join([]string{
		"curl -sS --max-time 10 -k " + base + "/version; echo \"version:$?\"",
		"curl -sS --max-time 10 -k -X POST -d '{\"key\":\"L3JlZ2lzdHJ5\",\"range_end\":\"L3JlZ2lzdHJ6\"}' " + base + "/v3/kv/range; echo \"range:$?\"",
		"curl -sS --max-time 10 http://arl-etcd.arl-system.svc:2379/version; echo \"plain:$?\"",
		"sleep infinity",
	}, "; ")
	command, _ := json.Marshal([]string{"bash", "-c", script})
	runPod(t, ns, "intruder", string(command))
	var logs string
	waitFor(t, time.Minute, "the intruder's three attempts", func() (bool, string) {
		logs = kubectl(t, "logs", "-n", ns, "intruder")
		return strings.Contains(logs, "plain:"), logs
	})
	for _, attempt := range []string{"version", "range", "plain"} {
		if strings.Contains(logs, attempt+":0") {
			t.Errorf("a pod without a client certificate got an answer from etcd (%s):\n%s", attempt, logs)
		}
	}
	if strings.Contains(logs, "etcdserver") || strings.Contains(logs, `"kvs"`) {
		t.Errorf("etcd answered a pod without a client certificate:\n%s", logs)
	}
	// The control: with a certificate signed by arl-etcd-ca it reads.
	out := kubectl(t, "exec", "-n", arlSystem, "arl-etcd-0", "--", "etcdctl", "--endpoints=https://127.0.0.1:2379",
		"--cacert=/var/run/etcd/tls/ca.crt", "--cert=/var/run/etcd/tls/tls.crt", "--key=/var/run/etcd/tls/tls.key",
		"get", "/registry/arl.infra.io/.arl-store", "--print-value-only")
	if !strings.Contains(out, `"uid"`) {
		t.Errorf("with a client certificate, etcd did not answer the store marker: %q", out)
	}
}

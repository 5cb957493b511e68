package e2e

// WarmPools and Sandboxes on real pods (issue 5): the manual's python-pool
// keeps Ready pods of the user's image with ARL's sidecar, binds them
// synchronously, replaces what dies, rolls and scales, survives restarts of
// arl-apiserver, and never hands one pod to two Sandboxes, even from two
// replicas at once.

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestPoolKeepsReadyPods: replicas 3 gives 3 Ready pods running the
// template's image, wrapped by ARL's agent, with the sidecar; a Sandbox
// created with kubectl is Ready in the create response, describe shows the
// bind, the pool refills, and deleting the Sandbox deletes its pod.
func TestPoolKeepsReadyPods(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "pool")
	createPool(t, ns, 3)
	waitPool(t, ns, poolName, 3, 0)

	// What a user sees: kubectl get pods -l arl.infra.io/pool=python-pool.
	table := kubectl(t, "get", "pods", "-n", ns, "-l", labelPool+"="+poolName, "--no-headers")
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 3 {
		t.Fatalf("want 3 pods:\n%s", table)
	}
	for _, line := range strings.Split(strings.TrimSpace(table), "\n") {
		if f := strings.Fields(line); len(f) < 3 || f[1] != "2/2" || f[2] != "Running" {
			t.Errorf("pod not 2/2 Running: %s", line)
		}
	}
	idle := poolPods(t, ns, poolName)
	for name, pod := range idle {
		var names []string
		for _, c := range pod.Spec.Containers {
			names = append(names, c.Name)
			switch c.Name {
			case "executor":
				if c.Image != testImage {
					t.Errorf("pod %s: executor image %q, want the template's %q", name, c.Image, testImage)
				}
				// The agent wraps the template's command, in the user's image.
				cmd := strings.Join(c.Command, " ")
				if !strings.HasPrefix(cmd, "/.arl/bin/arl-sidecar agent ") || !strings.HasSuffix(cmd, " -- sleep infinity") {
					t.Errorf("pod %s: executor command %q does not wrap the template's", name, cmd)
				}
			case "sidecar":
				if !strings.Contains(c.Image, "arl-sidecar") {
					t.Errorf("pod %s: sidecar image %q", name, c.Image)
				}
			}
		}
		if strings.Join(names, ",") != "executor,sidecar" {
			t.Errorf("pod %s: containers %v, want [executor sidecar]", name, names)
		}
		if len(pod.Spec.InitContainers) != 1 || pod.Spec.InitContainers[0].Name != "arl-install" {
			t.Errorf("pod %s: init containers %+v, want arl-install", name, pod.Spec.InitContainers)
		}
		if pod.Metadata.Labels[labelState] != "idle" || pod.Metadata.Labels[labelHash] == "" {
			t.Errorf("pod %s: labels %v", name, pod.Metadata.Labels)
		}
	}
	for name := range idle {
		if out := kubectl(t, "exec", "-n", ns, name, "-c", "executor", "--", "python", "--version"); !strings.HasPrefix(out, "Python 3.") {
			t.Errorf("kubectl exec %s -c executor -- python --version: %q", name, out)
		}
		break
	}

	// The manual's Sandbox: Ready in the create response itself.
	out := kubectlIn(t, sandboxYAML, "create", "-n", ns, "-f", "-", "-o", "jsonpath={.status.phase} {.status.podName} {.status.podIP}")
	f := strings.Fields(out)
	if len(f) != 3 || f[0] != "Ready" {
		t.Fatalf("kubectl create sandbox answered %q, want Ready with a pod", out)
	}
	podName, podIP := f[1], f[2]
	if pod, ok := idle[podName]; !ok || pod.Status.PodIP != podIP {
		t.Errorf("bound pod %s (%s) is not one of the idle pods %v", podName, podIP, keys(idle))
	}
	// The pod's labels follow the bind (a quarter second later, so that a
	// burst's binds go first).
	waitFor(t, 30*time.Second, "the bound pod's labels", func() (bool, string) {
		labels := getPod(t, ns, podName).Metadata.Labels
		return labels[labelState] == "allocated" && labels[labelSandbox] == "my-workspace", fmt.Sprint(labels)
	})
	waitFor(t, time.Minute, "the Bound event in kubectl describe sandbox", func() (bool, string) {
		desc := kubectl(t, "describe", "sandbox", "my-workspace", "-n", ns)
		return regexp.MustCompile(`Normal\s+Bound\s+.*Bound pod ` + podName + ` from WarmPool python-pool`).MatchString(desc), desc
	})
	waitPool(t, ns, poolName, 3, 1)

	// reusePolicy Delete: the Sandbox's pod goes with it.
	kubectl(t, "delete", "sandbox", "my-workspace", "-n", ns)
	waitFor(t, waitPodsTimeout, "pod "+podName+" deleted with its Sandbox", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "get", "pod", podName, "-n", ns)
		return r.err != nil && strings.Contains(r.stderr, "NotFound"), r.stdout
	})
	waitPool(t, ns, poolName, 3, 0)
}

// TestResetPoolReturnsACleanPod: with reusePolicy Reset a deleted
// Sandbox's pod goes back to the pool, not deleted, and the next Sandbox
// on it finds neither the last one's workspace nor its processes (what
// Reset clears: docs/security.md), whether the Sandbox was deleted at once
// or after its pod's labels followed the bind, alone or in a collection
// delete.
func TestResetPoolReturnsACleanPod(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "reset")
	kubectlIn(t, strings.Replace(fmt.Sprintf(warmPoolYAML, 1), "spec:\n  replicas:", "spec:\n  reusePolicy: Reset\n  replicas:", 1), "create", "-n", ns, "-f", "-")
	waitPool(t, ns, poolName, 1, 0)
	pod := keys(poolPods(t, ns, poolName))[0]
	uid := getPod(t, ns, pod).Metadata.UID

	for i, how := range []struct{ labelled, collection bool }{{}, {labelled: true}, {collection: true}} {
		name := fmt.Sprintf("tenant-%d", i)
		if sb := createSandbox(t, ns, name, true); sb.Status.Phase != "Ready" || sb.Status.PodName != pod {
			t.Fatalf("%s: %s/%s, want Ready on the pool's one pod %s", name, sb.Status.Phase, sb.Status.PodName, pod)
		}
		check := execTask(t, ns, newTask("check-"+name, name, bash("check", "ls -A /workspace; pgrep -fc 'sleep [56]00' || true")))
		if check.Status.Stdout != "0\n" {
			t.Errorf("%s found what the Sandbox before it left: %s", name, check)
		}
		litter := execTask(t, ns, newTask("litter-"+name, name, filePatch("f", "secret.txt", name),
			bash("bg", "(setsid sleep 500 &); sleep 600 & echo started")))
		mustState(t, litter, "Succeeded")
		if how.labelled {
			waitFor(t, 30*time.Second, "the bound pod's labels", func() (bool, string) {
				labels := getPod(t, ns, pod).Metadata.Labels
				return labels[labelSandbox] == name, fmt.Sprint(labels)
			})
		}
		if how.collection {
			kubectl(t, "delete", "--raw", arlBase+ns+"/sandboxes")
		} else {
			kubectl(t, "delete", "sandbox", name, "-n", ns)
		}
		waitPool(t, ns, poolName, 1, 0)
		if now := getPod(t, ns, pod); now.Metadata.UID != uid {
			t.Fatalf("after %s the pool's pod is %s (%s), want %s reused", name, now.Metadata.Name, now.Metadata.UID, uid)
		}
	}
}

// TestResetPoolFencesOffTheLeavingSandbox: Tasks of a Sandbox deleted
// while one runs and others wait behind it (created through either
// arl-apiserver replica) all fail, and none of them runs in the pod
// after its reset, under the next Sandbox.
func TestResetPoolFencesOffTheLeavingSandbox(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "fence")
	kubectlIn(t, strings.Replace(fmt.Sprintf(warmPoolYAML, 1), "spec:\n  replicas:", "spec:\n  reusePolicy: Reset\n  replicas:", 1), "create", "-n", ns, "-f", "-")
	waitPool(t, ns, poolName, 1, 0)
	pod := createSandbox(t, ns, "leaving", true).Status.PodName

	createTask(t, ns, newTask("running", "leaving", bash("run", "sleep 20; touch /workspace/late")))
	waitTask(t, ns, "running", "Running")
	queued := []string{"queued-0", "queued-1", "queued-2", "queued-3"}
	parallel(len(queued), func(i int) {
		runKubectl(kubeconfig, newTask(queued[i], "leaving", bash("run", "touch /workspace/"+queued[i]+"; sleep 500")).json(), "create", "-n", ns, "-f", "-")
	})
	kubectl(t, "delete", "sandbox", "leaving", "-n", ns)
	waitPool(t, ns, poolName, 1, 0)
	if next := createSandbox(t, ns, "next", true); next.Status.PodName != pod {
		t.Fatalf("the next Sandbox is on %s, want the pool's one pod %s", next.Status.PodName, pod)
	}
	for _, name := range append([]string{"running"}, queued...) {
		if r := runKubectl(kubeconfig, "", "get", "task", name, "-n", ns); r.err != nil {
			continue // its create lost the race with the delete
		}
		t.Logf("%s", waitTask(t, ns, name, "Failed"))
	}
	check := execTask(t, ns, newTask("check", "next", bash("check", "ls -A /workspace; pgrep -fc 'sleep [25]00?' || true")))
	if check.Status.Stdout != "0\n" {
		t.Errorf("a Task of the deleted Sandbox ran under the next one: %s", check)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func getPod(t *testing.T, ns, name string) podObj {
	t.Helper()
	var p podObj
	if err := getInto(&p, "pod", name, "-n", ns); err != nil {
		t.Fatal(err)
	}
	return p
}

// createSandboxes creates Sandboxes named names at once, each with its own
// kubectl, and returns the create responses.
func createSandboxes(t *testing.T, ns string, names []string) []sandboxObj {
	t.Helper()
	results := make([]kubectlResult, len(names))
	parallel(len(names), func(i int) {
		results[i] = runKubectl(kubeconfig, sandboxYAMLNamed(names[i], true), "create", "-n", ns, "-f", "-", "-o", "json")
	})
	created := make([]sandboxObj, len(names))
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("create sandbox %s: %s", names[i], r)
		}
		decode(t, r.stdout, &created[i])
	}
	return created
}

// checkUniqueBindings checks every Sandbox in ns is Ready on its own pod,
// from both sides: Sandbox status.podName and pod label arl.infra.io/sandbox.
func checkUniqueBindings(t *testing.T, ns string, sandboxes []string) map[string]string {
	t.Helper()
	byPod := map[string]string{}
	for _, name := range sandboxes {
		s := waitSandbox(t, ns, name, "Ready")
		if other, ok := byPod[s.Status.PodName]; ok {
			t.Errorf("pod %s is bound to Sandboxes %s and %s", s.Status.PodName, other, name)
		}
		byPod[s.Status.PodName] = name
	}
	// The labels follow the binds: wait for them, then they must agree.
	waitFor(t, 30*time.Second, "every bound pod labelled with its Sandbox", func() (bool, string) {
		for _, pod := range poolPods(t, ns, poolName) {
			if sb, ok := byPod[pod.Metadata.Name]; ok && (pod.Metadata.Labels[labelSandbox] != sb || pod.Metadata.Labels[labelState] != "allocated") {
				return false, fmt.Sprintf("pod %s of Sandbox %s labelled %v", pod.Metadata.Name, sb, pod.Metadata.Labels)
			}
		}
		return true, ""
	})
	labelled := map[string][]string{}
	for _, pod := range poolPods(t, ns, poolName) {
		if sb := pod.Metadata.Labels[labelSandbox]; sb != "" {
			labelled[sb] = append(labelled[sb], pod.Metadata.Name)
		}
	}
	for _, name := range sandboxes {
		if pods := labelled[name]; len(pods) != 1 {
			t.Errorf("Sandbox %s: pods labelled with it %v, want exactly one", name, pods)
		}
	}
	return byPod
}

// TestConcurrentBinds: 10 Sandboxes created at once from a pool of 3 get 10
// distinct pods; the pool then refills to 3 idle.
func TestConcurrentBinds(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "binds")
	createPool(t, ns, 3)
	waitPool(t, ns, poolName, 3, 0)

	var names []string
	for i := 0; i < 10; i++ {
		names = append(names, fmt.Sprintf("sb-%d", i))
	}
	readyAtCreate := 0
	for _, s := range createSandboxes(t, ns, names) {
		if s.Status.Phase == "Ready" {
			readyAtCreate++
		}
	}
	if readyAtCreate == 0 {
		t.Errorf("no Sandbox was Ready in its create response")
	}
	t.Logf("%d of 10 Sandboxes were Ready in their create response", readyAtCreate)
	checkUniqueBindings(t, ns, names)
	waitPool(t, ns, poolName, 3, 10)
}

// TestTwoReplicas: with two arl-apiserver replicas (the install's
// default), both bind Sandboxes on their create path at the same time from
// the same idle pods and no pod is ever bound twice; and a Task answers
// tasks/exec and tasks/log?follow from either replica, the one that runs
// it or the other.
func TestTwoReplicas(t *testing.T) {
	requireARL(t)
	servers := waitARLServers(t, 2)
	t.Run("binds never share a pod", func(t *testing.T) { twoReplicasBind(t, servers) })
	t.Run("exec and log from either replica", twoReplicasExec)
}

func twoReplicasBind(t *testing.T, servers []string) {
	ns := newNamespace(t, "replicas")
	createPool(t, ns, 4)
	waitPool(t, ns, poolName, 4, 0)

	// Each round binds 8 Sandboxes at once against 4 idle pods (the rest
	// wait for new pods); kube-apiserver spreads the creates over both
	// replicas. Rounds repeat until each replica has bound on its create
	// path, which the Bound event's reporting instance names.
	binders := map[string]int{}
	var all []string
	for round := 0; round < 6 && len(binders) < 2; round++ {
		var names []string
		for i := 0; i < 8; i++ {
			names = append(names, fmt.Sprintf("r%d-%d", round, i))
		}
		atCreate := map[string]bool{}
		for _, s := range createSandboxes(t, ns, names) {
			if s.Status.Phase == "Ready" {
				atCreate[s.Metadata.Name] = true
			}
		}
		all = append(all, names...)
		checkUniqueBindings(t, ns, all)
		waitFor(t, time.Minute, "Bound events of this round", func() (bool, string) {
			seen := 0
			for _, ev := range listEvents(t, ns, "Sandbox", "Bound") {
				if atCreate[ev.InvolvedObject.Name] {
					seen++
				}
			}
			return seen >= len(atCreate), fmt.Sprintf("%d of %d", seen, len(atCreate))
		})
		for _, ev := range listEvents(t, ns, "Sandbox", "Bound") {
			if atCreate[ev.InvolvedObject.Name] {
				binders[ev.Source.Host]++
			}
		}
		t.Logf("round %d: %d of 8 bound in the create response; create-path binds per replica so far: %v", round, len(atCreate), binders)
	}
	for _, server := range servers {
		if binders[server] == 0 {
			t.Errorf("replica %s never bound a Sandbox on its create path (binds per replica %v)", server, binders)
		}
	}
	if len(binders) != len(servers) {
		t.Errorf("binds by %v, want exactly the replicas %v", keys(binders), servers)
	}
	waitPool(t, ns, poolName, 4, len(all))
	checkUniqueBindings(t, ns, all)
}

func twoReplicasExec(t *testing.T) {
	ns := taskEnv(t, "either", 1, "sb")
	pod := getSandbox(t, ns, "sb").Status.PodName
	// The Task waits for a file, so every call below arrives while it runs.
	createTask(t, ns, newTask("gated", "sb", bash("gate",
		"echo waiting; while [ ! -f /workspace/go ]; do sleep 0.2; done; echo released")))
	waitFor(t, time.Minute, "the Task to run", func() (bool, string) {
		var got taskObj
		err := getInto(&got, "task", "gated", "-n", ns)
		return err == nil && got.Status.State == "Running", fmt.Sprint(err)
	})
	// Calls spread over both replicas: whichever does not run the Task
	// awaits it through the watch cache.
	const execs, logs = 8, 4
	calls := make([]*background, execs+logs)
	for i := range calls {
		if i < execs {
			calls[i] = startKubectl("", "create", "--raw", execPath(ns, "gated"), "-f", "/dev/null")
		} else {
			calls[i] = startKubectl("", "get", "--raw", arlBase+ns+"/tasks/gated/log?follow=true")
		}
	}
	// Give the calls a moment to reach a replica; a call arriving later
	// still must get the same answer.
	time.Sleep(3 * time.Second)
	kubectl(t, "exec", "-n", ns, pod, "-c", "executor", "--", "touch", "/workspace/go")
	for i, c := range calls {
		r := c.wait()
		if r.err != nil {
			t.Errorf("call %d: %s", i, r)
			continue
		}
		if i >= execs {
			if r.stdout != "waiting\nreleased\n" {
				t.Errorf("log %d: %q", i, r.stdout)
			}
			continue
		}
		var task taskObj
		decode(t, r.stdout, &task)
		if task.Status.State != "Succeeded" || task.Status.Stdout != "waiting\nreleased\n" {
			t.Errorf("exec %d answered %s", i, task)
		}
	}
}

// TestPodDeletionFailsItsSandbox: `kubectl delete pod` of a bound pod fails
// its Sandbox with reason PodLost, Tasks of it fail with the reason, and
// the pool replaces the pod.
func TestPodDeletionFailsItsSandbox(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "podlost")
	createPool(t, ns, 1)
	waitPool(t, ns, poolName, 1, 0)
	sb := readySandbox(t, ns, "doomed")
	pod := sb.Status.PodName

	kubectl(t, "delete", "pod", pod, "-n", ns, "--wait=false")
	failed := waitSandbox(t, ns, "doomed", "Failed")
	if failed.reason() != "PodLost" || !strings.Contains(fmt.Sprint(failed.Status.Conditions), pod) {
		t.Errorf("failed Sandbox conditions %+v, want reason PodLost naming pod %s", failed.Status.Conditions, pod)
	}
	waitFor(t, time.Minute, "the PodLost event in kubectl describe sandbox", func() (bool, string) {
		desc := kubectl(t, "describe", "sandbox", "doomed", "-n", ns)
		return regexp.MustCompile(`Warning\s+PodLost\s+`).MatchString(desc), desc
	})
	task := execTask(t, ns, newTask("too-late", "doomed", command("hi", "echo", "hi")))
	if task.Status.State != "Failed" || task.reason() != "SandboxFailed" {
		t.Errorf("a Task of the failed Sandbox: %s", task)
	}

	waitPool(t, ns, poolName, 1, 0)
	if _, ok := poolPods(t, ns, poolName)[pod]; ok {
		t.Errorf("the deleted pod %s is still in the pool", pod)
	}
}

// TestScaleRollAndDeletePool: kubectl scale changes the idle count both
// ways; a template change replaces the idle pods and keeps the bound one;
// deleting the pool deletes all its pods and fails its Sandbox.
func TestScaleRollAndDeletePool(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "scale")
	createPool(t, ns, 2)
	waitPool(t, ns, poolName, 2, 0)

	kubectl(t, "scale", "warmpool", poolName, "-n", ns, "--replicas=4")
	waitPool(t, ns, poolName, 4, 0)
	kubectl(t, "scale", "warmpool", poolName, "-n", ns, "--replicas=1")
	waitPool(t, ns, poolName, 1, 0)
	if got := kubectl(t, "get", "warmpool", poolName, "-n", ns, "-o", "jsonpath={.spec.replicas}"); got != "1" {
		t.Errorf("spec.replicas after kubectl scale: %q", got)
	}

	keeper := readySandbox(t, ns, "keeper")
	waitPool(t, ns, poolName, 1, 1)
	before := poolPods(t, ns, poolName)
	oldHash := before[keeper.Status.PodName].Metadata.Labels[labelHash]

	kubectl(t, "patch", "warmpool", poolName, "-n", ns, "--type=json", "-p",
		`[{"op":"replace","path":"/spec/template/spec/containers/0/command","value":["sleep","100000"]}]`)
	waitFor(t, waitPodsTimeout, "the idle pods rolled to the new template", func() (bool, string) {
		pods, err := tryPoolPods(ns, poolName)
		if err != nil {
			return false, err.Error()
		}
		for name, pod := range pods {
			if pod.Metadata.Labels[labelState] == "idle" && (pod.Metadata.Labels[labelHash] == oldHash || before[name].Metadata.Name != "") {
				return false, "old idle pod " + name + " is still there"
			}
		}
		return true, ""
	})
	waitPool(t, ns, poolName, 1, 1)
	for name, pod := range poolPods(t, ns, poolName) {
		if pod.Metadata.Labels[labelState] != "idle" {
			continue
		}
		for _, c := range pod.Spec.Containers {
			if c.Name == "executor" && !strings.HasSuffix(strings.Join(c.Command, " "), " -- sleep 100000") {
				t.Errorf("new idle pod %s runs %q, not the new template's command", name, c.Command)
			}
		}
	}
	if kept := getPod(t, ns, keeper.Status.PodName); kept.Metadata.UID != keeper.Status.PodUID || kept.Metadata.Labels[labelSandbox] != "keeper" {
		t.Errorf("the bound pod of the old template must stay while its Sandbox lives: %+v", kept.Metadata)
	}
	if s := getSandbox(t, ns, "keeper"); s.Status.Phase != "Ready" {
		t.Errorf("Sandbox keeper after the roll: %+v", s.Status)
	}

	kubectl(t, "delete", "warmpool", poolName, "-n", ns)
	waitFor(t, waitPodsTimeout, "every pod of the deleted pool is gone", func() (bool, string) {
		pods, err := tryListPods(ns, labelPool+"="+poolName)
		return err == nil && len(pods) == 0, fmt.Sprintf("%d pods left, err %v", len(pods), err)
	})
	if s := waitSandbox(t, ns, "keeper", "Failed"); s.reason() != "PoolDeleted" {
		t.Errorf("Sandbox keeper after its pool was deleted: reason %s, want PoolDeleted", s.reason())
	}
}

// TestRestartKeepsBindings: `kubectl rollout restart` of arl-apiserver keeps
// every binding and every pod; the new replica reaches the sidecars and
// binds from the pods it finds.
func TestRestartKeepsBindings(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "restart")
	createPool(t, ns, 2)
	waitPool(t, ns, poolName, 2, 0)
	a, b := readySandbox(t, ns, "a"), readySandbox(t, ns, "b")
	waitPool(t, ns, poolName, 2, 2)
	if task := execTask(t, ns, newTask("write", "a", filePatch("f", "state.txt", "kept"))); task.Status.State != "Succeeded" {
		t.Fatalf("write: %s", task)
	}
	before := poolPods(t, ns, poolName)

	restartARL(t, ns)

	for _, s := range []sandboxObj{a, b} {
		after := waitSandbox(t, ns, s.Metadata.Name, "Ready")
		if after.Status.PodName != s.Status.PodName || after.Status.PodUID != s.Status.PodUID {
			t.Errorf("Sandbox %s was bound to %s (%s), after the restart to %s (%s)", s.Metadata.Name,
				s.Status.PodName, s.Status.PodUID, after.Status.PodName, after.Status.PodUID)
		}
	}
	waitPool(t, ns, poolName, 2, 2)
	after := poolPods(t, ns, poolName)
	for name, pod := range before {
		if got, ok := after[name]; !ok || got.Metadata.UID != pod.Metadata.UID ||
			got.Metadata.Labels[labelState] != pod.Metadata.Labels[labelState] || got.Metadata.Labels[labelSandbox] != pod.Metadata.Labels[labelSandbox] {
			t.Errorf("pod %s changed across the restart: %v -> %v", name, pod.Metadata, got.Metadata)
		}
	}
	if len(after) != len(before) {
		t.Errorf("pods before the restart %v, after %v", keys(before), keys(after))
	}
	// The new replica talks to the old sidecars (mTLS with the CA from the
	// Secret) and binds the idle pods it found.
	if task := execTask(t, ns, newTask("read", "a", command("cat", "cat", "/workspace/state.txt"))); task.Status.State != "Succeeded" || task.Status.Stdout != "kept" {
		t.Errorf("read after the restart: %s", task)
	}
	if c := createSandbox(t, ns, "c", true); c.Status.Phase != "Ready" || before[c.Status.PodName].Metadata.Labels[labelState] != "idle" {
		t.Errorf("a Sandbox created after the restart: %+v, want Ready on one of the idle pods %v", c.Status, keys(before))
	}
}

// TestMissingImageReportsReplicaFailure: a template whose image does not
// exist makes the pool say so (condition ReplicaFailure with the kubelet's
// reason, a Warning event) and back off instead of churning pods.
func TestMissingImageReportsReplicaFailure(t *testing.T) {
	// Mostly waiting: it runs in parallel, after the sequential tests (those
	// that restart or scale arl-apiserver are never parallel).
	t.Parallel()
	requireARL(t)
	for _, tc := range []struct{ name, policy, reasons string }{
		{"pull", "IfNotPresent", "ErrImagePull|ImagePullBackOff"},
		// Never: what a cluster without a registry (this one) answers.
		{"neverpull", "Never", "ErrImageNeverPull"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := newNamespace(t, "badimage")
			y := strings.Replace(fmt.Sprintf(warmPoolYAML, 1), "image: python:3.9-slim",
				"image: arl-e2e.invalid/no-such-image:v1\n        imagePullPolicy: "+tc.policy, 1)
			kubectlIn(t, y, "create", "-n", ns, "-f", "-")

			var pool warmPool
			waitFor(t, waitPodsTimeout, "condition ReplicaFailure=True", func() (bool, string) {
				if err := getInto(&pool, "warmpool", poolName, "-n", ns); err != nil {
					return false, err.Error()
				}
				c := pool.condition("ReplicaFailure")
				return c.Status == "True", pool.String()
			})
			c := pool.condition("ReplicaFailure")
			if !regexp.MustCompile("^("+tc.reasons+")$").MatchString(c.Reason) || !strings.Contains(c.Message, "executor") {
				t.Errorf("ReplicaFailure %+v, want reason %s naming the executor container", c, tc.reasons)
			}
			if r := pool.condition("Ready"); r.Status != "False" {
				t.Errorf("Ready condition %+v while no pod can start", r)
			}
			waitFor(t, time.Minute, "the PodReplaced warning in kubectl describe warmpool", func() (bool, string) {
				desc := kubectl(t, "describe", "warmpool", poolName, "-n", ns)
				return regexp.MustCompile(`Warning\s+PodReplaced\s+.*(` + tc.reasons + `)`).MatchString(desc), desc
			})

			// No churn: watch it fail for a while and count the pods it
			// tried (each pod is scheduled once). Backing off (5 s, 10 s,
			// 20 s...) tries a handful; replacing each failure at once
			// would try dozens.
			time.Sleep(30 * time.Second)
			tried := map[string]bool{}
			for _, ev := range listEvents(t, ns, "Pod", "Scheduled") {
				tried[ev.InvolvedObject.Name] = true
			}
			if len(tried) > 6 {
				t.Errorf("the pool churned: %d pods tried: %v", len(tried), keys(tried))
			}
			t.Logf("%d pods tried", len(tried))
			if c := getPool(t, ns, poolName).condition("ReplicaFailure"); c.Status != "True" {
				t.Errorf("ReplicaFailure cleared while the image still does not exist: %+v", c)
			}
		})
	}
}

// TestRecreatedNamespace: a namespace deleted and created again under the
// same name (as CI jobs do) gets working pool pods again: its sidecar TLS
// Secret went with the first namespace and must be made anew.
func TestRecreatedNamespace(t *testing.T) {
	requireARL(t)
	ns := fmt.Sprintf("e2e-recreated-%s", randSuffix())
	t.Cleanup(func() { runKubectl(kubeconfig, "", "delete", "namespace", ns, "--wait=false", "--ignore-not-found") })
	for round := 1; round <= 2; round++ {
		kubectl(t, "create", "namespace", ns)
		waitFor(t, time.Minute, "serviceaccount default in "+ns, func() (bool, string) {
			r := runKubectl(kubeconfig, "", "get", "serviceaccount", "default", "-n", ns)
			return r.err == nil, r.stderr
		})
		createPool(t, ns, 1)
		waitPool(t, ns, poolName, 1, 0)
		if s := createSandbox(t, ns, "sb", true); s.Status.Phase != "Ready" {
			t.Fatalf("round %d: Sandbox %+v", round, s.Status)
		}
		if task := execTask(t, ns, newTask("hi", "sb", command("hi", "echo", "hi"))); task.Status.Stdout != "hi\n" {
			t.Fatalf("round %d: %s", round, task)
		}
		if round == 1 {
			kubectl(t, "delete", "namespace", ns, "--timeout=180s")
		}
	}
}

package e2e

// Helpers of the pool and task suites: WarmPools, Sandboxes, Tasks and pods
// read with kubectl through kube-apiserver, decoded into the few fields the
// tests look at (the suites use only the standard library).

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	poolName         = "python-pool"
	labelPool        = "arl.infra.io/pool"
	labelState       = "arl.infra.io/state"
	labelSandbox     = "arl.infra.io/sandbox"
	labelHash        = "arl.infra.io/template-hash"
	arlBase          = "/apis/" + arlGroup + "/" + arlVersion + "/namespaces/"
	arlSystem        = "arl-system"
	arlDeployment    = "deployment/arl-apiserver"
	arlServerPods    = "app.kubernetes.io/name=arl-apiserver"
	waitPodsTimeout  = 3 * time.Minute
	waitTasksTimeout = 3 * time.Minute
)

type condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type objectMeta struct {
	Name              string            `json:"name"`
	UID               string            `json:"uid"`
	Generation        int64             `json:"generation"`
	Labels            map[string]string `json:"labels"`
	CreationTimestamp string            `json:"creationTimestamp"`
	DeletionTimestamp string            `json:"deletionTimestamp"`
}

type warmPool struct {
	Metadata objectMeta `json:"metadata"`
	Status   struct {
		ObservedGeneration int64       `json:"observedGeneration"`
		Replicas           int         `json:"replicas"`
		ReadyReplicas      int         `json:"readyReplicas"`
		AllocatedReplicas  int         `json:"allocatedReplicas"`
		Conditions         []condition `json:"conditions"`
	} `json:"status"`
}

func (p warmPool) condition(t string) condition {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return condition{}
}

func (p warmPool) String() string {
	return fmt.Sprintf("generation %d observed %d replicas %d ready %d allocated %d conditions %+v", p.Metadata.Generation,
		p.Status.ObservedGeneration, p.Status.Replicas, p.Status.ReadyReplicas, p.Status.AllocatedReplicas, p.Status.Conditions)
}

type sandboxObj struct {
	Metadata objectMeta `json:"metadata"`
	Status   struct {
		Phase      string      `json:"phase"`
		PodName    string      `json:"podName"`
		PodUID     string      `json:"podUID"`
		PodIP      string      `json:"podIP"`
		Conditions []condition `json:"conditions"`
	} `json:"status"`
}

func (s sandboxObj) reason() string {
	for _, c := range s.Status.Conditions {
		if c.Type == "Ready" {
			return c.Reason
		}
	}
	return ""
}

type stepResult struct {
	Name     string `json:"name"`
	ExitCode int    `json:"exitCode"`
	TimedOut bool   `json:"timedOut"`
	Signal   string `json:"signal"`
	PID      int    `json:"pid"`
	Message  string `json:"message"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
}

type taskObj struct {
	Kind     string     `json:"kind"`
	Metadata objectMeta `json:"metadata"`
	Status   struct {
		State           string       `json:"state"`
		ExitCode        *int         `json:"exitCode"`
		Stdout          string       `json:"stdout"`
		Stderr          string       `json:"stderr"`
		StdoutTruncated bool         `json:"stdoutTruncated"`
		Steps           []stepResult `json:"steps"`
		Attempts        int          `json:"attempts"`
		Duration        string       `json:"duration"`
		Runner          string       `json:"runner"`
		Conditions      []condition  `json:"conditions"`
	} `json:"status"`
}

// reason is the reason of the Task's Complete condition.
func (t taskObj) reason() string {
	for _, c := range t.Status.Conditions {
		if c.Type == "Complete" {
			return c.Reason
		}
	}
	return ""
}

func (t taskObj) exitCode() string {
	if t.Status.ExitCode == nil {
		return "<nil>"
	}
	return fmt.Sprint(*t.Status.ExitCode)
}

func (t taskObj) String() string {
	return fmt.Sprintf("task %s: state %s reason %s exitCode %s attempts %d stdout %q stderr %q steps %+v conditions %+v",
		t.Metadata.Name, t.Status.State, t.reason(), t.exitCode(), t.Status.Attempts, t.Status.Stdout, t.Status.Stderr, t.Status.Steps, t.Status.Conditions)
}

type podObj struct {
	Metadata objectMeta `json:"metadata"`
	Spec     struct {
		InitContainers []struct {
			Name  string `json:"name"`
			Image string `json:"image"`
		} `json:"initContainers"`
		Containers []struct {
			Name    string   `json:"name"`
			Image   string   `json:"image"`
			Command []string `json:"command"`
		} `json:"containers"`
	} `json:"spec"`
	Status struct {
		Phase      string      `json:"phase"`
		PodIP      string      `json:"podIP"`
		Conditions []condition `json:"conditions"`
	} `json:"status"`
}

func (p podObj) ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" {
			return c.Status == "True"
		}
	}
	return false
}

// decode unmarshals kubectl's JSON output or fails the test.
func decode(t *testing.T, out string, into any) {
	t.Helper()
	if err := json.Unmarshal([]byte(out), into); err != nil {
		t.Fatalf("decoding %T: %v\n%s", into, err, out)
	}
}

// createPool creates the manual's WarmPool python-pool with replicas idle pods.
func createPool(t *testing.T, ns string, replicas int) {
	t.Helper()
	kubectlIn(t, fmt.Sprintf(warmPoolYAML, replicas), "create", "-n", ns, "-f", "-")
}

// getInto runs `kubectl get ARGS -o json` and decodes the answer; waits use
// it to ride out a moment when the API is unavailable (a restart).
func getInto(into any, args ...string) error {
	r := runKubectl(kubeconfig, "", append(append([]string{"get"}, args...), "-o", "json")...)
	if r.err != nil {
		return fmt.Errorf("%s", r)
	}
	if err := json.Unmarshal([]byte(r.stdout), into); err != nil {
		return fmt.Errorf("decoding %T: %w\n%s", into, err, r.stdout)
	}
	return nil
}

func getPool(t *testing.T, ns, name string) warmPool {
	t.Helper()
	var p warmPool
	if err := getInto(&p, "warmpool", name, "-n", ns); err != nil {
		t.Fatal(err)
	}
	return p
}

// listPods lists the pods of a label selector in ns.
func listPods(t *testing.T, ns, selector string) []podObj {
	t.Helper()
	pods, err := tryListPods(ns, selector)
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

func tryListPods(ns, selector string) ([]podObj, error) {
	var list struct {
		Items []podObj `json:"items"`
	}
	err := getInto(&list, "pods", "-n", ns, "-l", selector)
	return list.Items, err
}

// poolPods lists a pool's pods that are not being deleted, by name.
func poolPods(t *testing.T, ns, pool string) map[string]podObj {
	t.Helper()
	pods, err := tryPoolPods(ns, pool)
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

func tryPoolPods(ns, pool string) (map[string]podObj, error) {
	pods, err := tryListPods(ns, labelPool+"="+pool)
	out := map[string]podObj{}
	for _, p := range pods {
		if p.Metadata.DeletionTimestamp == "" {
			out[p.Metadata.Name] = p
		}
	}
	return out, err
}

// waitPool waits until the pool's status says idle Ready pods and
// allocated ones (allocated < 0: any number) for its current generation,
// and its live pods agree: idle Ready pods labelled idle, allocated ones
// labelled allocated, nothing else.
func waitPool(t *testing.T, ns, pool string, idle, allocated int) warmPool {
	t.Helper()
	var p warmPool
	waitFor(t, waitPodsTimeout, fmt.Sprintf("WarmPool %s/%s: %d idle Ready pods, %d allocated", ns, pool, idle, allocated), func() (bool, string) {
		if err := getInto(&p, "warmpool", pool, "-n", ns); err != nil {
			return false, err.Error()
		}
		s := p.Status
		if s.ObservedGeneration != p.Metadata.Generation || s.ReadyReplicas != idle || s.Replicas-s.AllocatedReplicas != idle ||
			(allocated >= 0 && s.AllocatedReplicas != allocated) {
			return false, p.String()
		}
		pods, err := tryPoolPods(ns, pool)
		if err != nil {
			return false, err.Error()
		}
		var idleReady, alloc int
		for _, pod := range pods {
			switch pod.Metadata.Labels[labelState] {
			case "idle":
				if pod.ready() {
					idleReady++
				}
			case "allocated":
				alloc++
			}
		}
		ok := idleReady == idle && len(pods) == idle+s.AllocatedReplicas && alloc == s.AllocatedReplicas
		return ok, fmt.Sprintf("%s; %d live pods: %d idle Ready, %d allocated", p, len(pods), idleReady, alloc)
	})
	return p
}

// sandboxYAMLNamed is the manual's Sandbox under another name.
func sandboxYAMLNamed(name string, keepAlive bool) string {
	y := strings.Replace(sandboxYAML, "name: my-workspace", "name: "+name, 1)
	if !keepAlive {
		y = strings.Replace(y, "keepAlive: true", "keepAlive: false", 1)
	}
	return y
}

// createSandbox creates a Sandbox with kubectl and returns the create response.
func createSandbox(t *testing.T, ns, name string, keepAlive bool) sandboxObj {
	t.Helper()
	var s sandboxObj
	decode(t, kubectlIn(t, sandboxYAMLNamed(name, keepAlive), "create", "-n", ns, "-f", "-", "-o", "json"), &s)
	return s
}

func getSandbox(t *testing.T, ns, name string) sandboxObj {
	t.Helper()
	var s sandboxObj
	if err := getInto(&s, "sandbox", name, "-n", ns); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitSandbox waits until the Sandbox is in phase.
func waitSandbox(t *testing.T, ns, name, phase string) sandboxObj {
	t.Helper()
	var s sandboxObj
	waitFor(t, waitPodsTimeout, "Sandbox "+name+" "+phase, func() (bool, string) {
		if err := getInto(&s, "sandbox", name, "-n", ns); err != nil {
			return false, err.Error()
		}
		return s.Status.Phase == phase, fmt.Sprintf("%+v", s.Status)
	})
	return s
}

// readySandbox creates a Sandbox and waits until it is Ready.
func readySandbox(t *testing.T, ns, name string) sandboxObj {
	t.Helper()
	createSandbox(t, ns, name, true)
	return waitSandbox(t, ns, name, "Ready")
}

// Task bodies, built as JSON.
type step map[string]any

func command(name string, argv ...string) step {
	return step{"name": name, "type": "Command", "command": argv}
}

func bash(name, script string) step { return command(name, "bash", "-c", script) }

func filePatch(name, path, content string) step {
	return step{"name": name, "type": "FilePatch", "path": path, "content": content}
}

type taskSpec map[string]any

// newTask is a Task of steps in sandbox; extra spec fields may be set on the result.
func newTask(name, sandbox string, steps ...step) taskSpec {
	return taskSpec{
		"apiVersion": arlGroup + "/" + arlVersion,
		"kind":       "Task",
		"metadata":   map[string]any{"name": name},
		"spec":       map[string]any{"sandboxRef": sandbox, "steps": steps},
	}
}

func (t taskSpec) set(field string, value any) taskSpec {
	t["spec"].(map[string]any)[field] = value
	return t
}

func (t taskSpec) name() string { return t["metadata"].(map[string]any)["name"].(string) }

func (t taskSpec) json() string {
	data, err := json.Marshal(t)
	if err != nil {
		panic(err)
	}
	return string(data)
}

// execPath is the tasks/{name}/exec subresource.
func execPath(ns, name string) string { return arlBase + ns + "/tasks/" + name + "/exec" }

// execTask runs a Task through tasks/{name}/exec (kubectl create --raw,
// through kube-apiserver's aggregation layer) and returns the finished Task
// the call answers.
func execTask(t *testing.T, ns string, task taskSpec) taskObj {
	t.Helper()
	r := runKubectl(kubeconfig, task.json(), "create", "--raw", execPath(ns, task.name()), "-f", "-")
	if r.err != nil {
		t.Fatalf("exec %s: %s", task.name(), r)
	}
	var out taskObj
	decode(t, r.stdout, &out)
	if out.Kind != "Task" || out.Metadata.Name != task.name() {
		t.Fatalf("exec %s answered a %q named %q", task.name(), out.Kind, out.Metadata.Name)
	}
	return out
}

// createTask stores a Task with kubectl create (it runs in the background).
func createTask(t *testing.T, ns string, task taskSpec) {
	t.Helper()
	kubectlIn(t, task.json(), "create", "-n", ns, "-f", "-")
}

func getTask(t *testing.T, ns, name string) taskObj {
	t.Helper()
	var task taskObj
	if err := getInto(&task, "task", name, "-n", ns); err != nil {
		t.Fatal(err)
	}
	return task
}

// waitTask waits with `kubectl wait` for the Task's state, then returns it.
func waitTask(t *testing.T, ns, name, state string) taskObj {
	t.Helper()
	r := runKubectl(kubeconfig, "", "wait", "-n", ns, "--for=jsonpath={.status.state}="+state, "task/"+name,
		fmt.Sprintf("--timeout=%ds", int(waitTasksTimeout.Seconds())))
	if r.err != nil {
		t.Fatalf("task %s never %s: %s\n%s", name, state, r, getTask(t, ns, name))
	}
	return getTask(t, ns, name)
}

func mustState(t *testing.T, task taskObj, state string) {
	t.Helper()
	if task.Status.State != state {
		t.Fatalf("want state %s; %s", state, task)
	}
}

// events lists the Events of an object kind and name (name "" = all) in ns.
type event struct {
	Reason         string `json:"reason"`
	Message        string `json:"message"`
	Type           string `json:"type"`
	InvolvedObject struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"involvedObject"`
	Source struct {
		Component string `json:"component"`
		Host      string `json:"host"`
	} `json:"source"`
	ReportingInstance string `json:"reportingInstance"`
}

func listEvents(t *testing.T, ns, kind, reason string) []event {
	t.Helper()
	sel := "involvedObject.kind=" + kind
	if reason != "" {
		sel += ",reason=" + reason
	}
	var list struct {
		Items []event `json:"items"`
	}
	decode(t, kubectl(t, "get", "events", "-n", ns, "--field-selector", sel, "-o", "json"), &list)
	return list.Items
}

// arlServerPodNames lists the arl-apiserver pods that are not being deleted.
func arlServerPodNames(t *testing.T) []string {
	t.Helper()
	var names []string
	for _, p := range listPods(t, arlSystem, arlServerPods) {
		if p.Metadata.DeletionTimestamp == "" {
			names = append(names, p.Metadata.Name)
		}
	}
	sort.Strings(names)
	return names
}

// waitARLServers waits until exactly n arl-apiserver pods run, all Ready,
// none terminating, the rollout is complete and the APIService Available.
func waitARLServers(t *testing.T, n int) []string {
	t.Helper()
	kubectl(t, "rollout", "status", "-n", arlSystem, arlDeployment, "--timeout=180s")
	var names []string
	waitFor(t, 3*time.Minute, fmt.Sprintf("%d arl-apiserver pods Ready, none terminating", n), func() (bool, string) {
		pods, err := tryListPods(arlSystem, arlServerPods)
		if err != nil {
			return false, err.Error()
		}
		names = names[:0]
		for _, p := range pods {
			if p.Metadata.DeletionTimestamp != "" || !p.ready() {
				return false, fmt.Sprintf("pod %s: deleting %q ready %v", p.Metadata.Name, p.Metadata.DeletionTimestamp, p.ready())
			}
			names = append(names, p.Metadata.Name)
		}
		return len(names) == n, fmt.Sprintf("pods %v", names)
	})
	kubectl(t, "wait", "apiservice/"+arlVersion+"."+arlGroup, "--for=condition=Available", "--timeout=120s")
	sort.Strings(names)
	return append([]string(nil), names...)
}

// restartARL restarts arl-apiserver as an operator does, waits until the
// new replica serves, and checks the old one exited by itself on SIGTERM
// (exit code 0), not killed at the end of its grace period, although a
// client was watching ARL objects through it (kubectl get -w).
func restartARL(t *testing.T, ns string) {
	t.Helper()
	before := arlServerPodNames(t)
	exits := watchPodExits(t, arlSystem, arlServerPods, "arl-apiserver")
	// A raw watch (no discovery on the way), from the list's version on.
	rv := kubectl(t, "get", "warmpools", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}")
	w := startRawWatch(t, arlBase+ns+"/warmpools?watch=true&resourceVersion="+rv)
	kubectlIn(t, strings.Replace(fmt.Sprintf(warmPoolYAML, 0), "name: "+poolName, "name: watch-probe", 1), "create", "-n", ns, "-f", "-")
	waitFor(t, time.Minute, "a watch of WarmPools through the aggregation layer", func() (bool, string) {
		return w.has("ADDED watch-probe"), w.String()
	})
	kubectl(t, "rollout", "restart", "-n", arlSystem, arlDeployment)
	waitARLServers(t, len(before))
	waitFor(t, 2*time.Minute, "the old arl-apiserver pods are gone", func() (bool, string) {
		now, err := tryListPods(arlSystem, arlServerPods)
		if err != nil {
			return false, err.Error()
		}
		for _, old := range before {
			for _, n := range now {
				if n.Metadata.Name == old {
					return false, "old pod " + old + " is still there"
				}
			}
		}
		return true, ""
	})
	got := exits()
	for _, old := range before {
		if e, ok := got[old]; !ok || e.ExitCode != 0 {
			t.Errorf("arl-apiserver pod %s did not exit by itself on SIGTERM: last state %+v (seen %v)", old, e, ok)
		}
	}
}

// startRawWatch runs `kubectl get --raw PATH` of a watch and collects its
// events ("ADDED name") like startWatch.
func startRawWatch(t *testing.T, path string) *watcher {
	t.Helper()
	return startKubectlWatch(t, "get", "--raw", path)
}

// terminated is a container's terminated state.
type terminated struct {
	ExitCode int    `json:"exitCode"`
	Reason   string `json:"reason"`
	Signal   int    `json:"signal"`
}

// watchPodExits watches the pods of a selector; the function it returns
// stops the watch and gives the last terminated state of the container of
// each pod seen (its exit code tells a clean exit from a kill).
func watchPodExits(t *testing.T, ns, selector, container string) func() map[string]terminated {
	t.Helper()
	w := startKubectl("", "get", "pods", "-n", ns, "-l", selector, "--watch", "--output-watch-events", "-o", "json")
	return func() map[string]terminated {
		_ = w.cmd.Process.Kill()
		r := w.wait()
		out := map[string]terminated{}
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		for {
			var ev struct {
				Object struct {
					Metadata objectMeta `json:"metadata"`
					Status   struct {
						ContainerStatuses []struct {
							Name  string `json:"name"`
							State struct {
								Terminated *terminated `json:"terminated"`
							} `json:"state"`
						} `json:"containerStatuses"`
					} `json:"status"`
				} `json:"object"`
			}
			if err := dec.Decode(&ev); err != nil {
				break
			}
			for _, c := range ev.Object.Status.ContainerStatuses {
				if c.Name == container && c.State.Terminated != nil {
					out[ev.Object.Metadata.Name] = *c.State.Terminated
				}
			}
		}
		return out
	}
}

// background runs kubectl in the background; wait returns its result.
type background struct {
	cmd    *exec.Cmd
	cancel context.CancelFunc
	done   chan kubectlResult
}

func startKubectl(stdin string, args ...string) *background {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	full := append([]string{"--kubeconfig", kubeconfig, "--cache-dir", cacheDir}, args...)
	cmd := exec.CommandContext(ctx, kubectlBin, full...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	b := &background{cmd: cmd, cancel: cancel, done: make(chan kubectlResult, 1)}
	if err := cmd.Start(); err != nil {
		cancel()
		b.done <- kubectlResult{args: args, err: err}
		return b
	}
	go func() {
		err := cmd.Wait()
		cancel()
		b.done <- kubectlResult{args: args, stdout: out.String(), stderr: errb.String(), err: err}
	}()
	return b
}

func (b *background) wait() kubectlResult { return <-b.done }

// parallel runs f(0..n-1) at once and waits for all.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			f(i)
		}(i)
	}
	wg.Wait()
}

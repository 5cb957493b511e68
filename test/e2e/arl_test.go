package e2e

// ARL through the aggregation layer, with /usr/bin/kubectl as a user runs it:
// discovery, then create/get/list/watch/describe/delete of WarmPool, Sandbox
// and Task, with the manual's YAML.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

var arlResources = map[string]string{ // plural -> kind
	"warmpools": "WarmPool",
	"sandboxes": "Sandbox",
	"tasks":     "Task",
}

// apiResource is one row of `kubectl api-resources -o wide`, as the
// aggregated discovery document (/apis/arl.infra.io/v1alpha1) gives it.
type apiResource struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Namespaced bool     `json:"namespaced"`
	ShortNames []string `json:"shortNames"`
	Categories []string `json:"categories"`
	Verbs      []string `json:"verbs"`
}

func arlDiscovery(t *testing.T) map[string]apiResource {
	t.Helper()
	out := kubectl(t, "get", "--raw", "/apis/"+arlGroup+"/"+arlVersion)
	var doc struct {
		GroupVersion string        `json:"groupVersion"`
		Resources    []apiResource `json:"resources"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("discovery document: %v\n%s", err, out)
	}
	if doc.GroupVersion != arlGroup+"/"+arlVersion {
		t.Fatalf("groupVersion %q", doc.GroupVersion)
	}
	res := map[string]apiResource{}
	for _, r := range doc.Resources {
		res[r.Name] = r
	}
	return res
}

func TestDiscovery(t *testing.T) {
	requireARL(t)
	res := arlDiscovery(t)
	for plural, kind := range arlResources {
		r, ok := res[plural]
		if !ok {
			t.Errorf("discovery lacks %s", plural)
			continue
		}
		if r.Kind != kind || !r.Namespaced {
			t.Errorf("%s: kind %q namespaced %v, want %s namespaced", plural, r.Kind, r.Namespaced, kind)
		}
		if len(r.ShortNames) == 0 {
			t.Errorf("%s has no short names", plural)
		}
		if !contains(r.Categories, "arl") {
			t.Errorf("%s categories %v lack arl", plural, r.Categories)
		}
		for _, v := range []string{"create", "delete", "get", "list", "watch", "update", "patch"} {
			if !contains(r.Verbs, v) {
				t.Errorf("%s verbs %v lack %s", plural, r.Verbs, v)
			}
		}
		if _, ok := res[plural+"/status"]; !ok {
			t.Errorf("no %s/status subresource", plural)
		}
	}

	// kubectl api-resources --api-group=arl.infra.io, as the issue asks: the
	// three kinds with their short names and the arl category.
	out := kubectl(t, "api-resources", "--api-group="+arlGroup, "-o", "wide", "--no-headers")
	rows := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			rows[f[0]] = line
		}
	}
	for plural, kind := range arlResources {
		line, ok := rows[plural]
		if !ok {
			t.Errorf("kubectl api-resources lacks %s:\n%s", plural, out)
			continue
		}
		for _, want := range append([]string{kind, arlGroup + "/" + arlVersion, "true", "arl"}, res[plural].ShortNames...) {
			if !containsField(line, want) {
				t.Errorf("api-resources row for %s lacks %q: %s", plural, want, line)
			}
		}
	}

	// Short names and the category work with kubectl get.
	ns := newNamespace(t, "disc")
	for plural := range arlResources {
		for _, sn := range res[plural].ShortNames {
			r := runKubectl(kubeconfig, "", "get", sn, "-n", ns)
			if r.err != nil {
				t.Errorf("kubectl get %s (short name of %s): %s", sn, plural, r)
			}
		}
	}
	if r := runKubectl(kubeconfig, "", "get", "arl", "-n", ns); r.err != nil {
		t.Errorf("kubectl get arl (category): %s", r)
	}
}

func containsField(line, want string) bool {
	for _, f := range strings.Fields(line) {
		for _, part := range strings.Split(f, ",") {
			if part == want {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The manual's quick-start YAML (seed user manual, steps 1–3).
const (
	warmPoolYAML = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: python-pool
spec:
  replicas: %d
  template:
    spec:
      containers:
      - name: executor
        image: python:3.9-slim
        command: ["sleep", "infinity"]
        volumeMounts:
        - name: workspace
          mountPath: /workspace
      volumes:
      - name: workspace
        emptyDir: {}
`
	sandboxYAML = `apiVersion: arl.infra.io/v1alpha1
kind: Sandbox
metadata:
  name: my-workspace
spec:
  poolRef: python-pool
  keepAlive: true
`
	taskYAML = `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: hello-task
spec:
  sandboxRef: my-workspace
  timeout: 30s
  steps:
  - name: write-script
    type: FilePatch
    path: /workspace/hello.py
    content: |
      print("Hello from ARL!")
      print("Task executed successfully")
  - name: run-script
    type: Command
    command: ["python", "/workspace/hello.py"]
`
)

// watcher runs `kubectl get RESOURCE -w --output-watch-events -o json` and
// collects the events (type, object name) it prints.
type watcher struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	events []string // "ADDED name"
	stderr strings.Builder
}

// startWatch runs `kubectl get RESOURCE -w` in ns. kubectl lists, prints
// the listed objects as ADDED, then watches from the list's resourceVersion:
// once an object that existed before the start is printed, every later
// change is delivered. marker is such an object (see establishWatches).
func startWatch(t *testing.T, ns, resource, marker string) *watcher {
	t.Helper()
	w := startKubectlWatch(t, "get", resource, "-n", ns, "-w", "--output-watch-events", "-o", "json")
	waitFor(t, 30*time.Second, "the "+resource+" watch's initial list", func() (bool, string) {
		return w.has("ADDED " + marker), w.String()
	})
	return w
}

// startKubectlWatch runs kubectl with args, reads the watch events it prints
// as JSON ("ADDED name") until stopped, and keeps its requests (-v=7, on
// stderr): what a watch that shows nothing waits for.
func startKubectlWatch(t *testing.T, args ...string) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	args = append([]string{"--kubeconfig", kubeconfig, "--cache-dir", cacheDir}, args...)
	cmd := exec.CommandContext(ctx, kubectlBin, append(args, "-v=7")...)
	w := &watcher{cancel: cancel, done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &w.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		dec := json.NewDecoder(bufio.NewReader(stdout))
		for {
			var ev struct {
				Type   string         `json:"type"`
				Object map[string]any `json:"object"`
			}
			if err := dec.Decode(&ev); err != nil {
				if err != io.EOF {
					w.mu.Lock()
					w.events = append(w.events, "DECODE-ERROR "+err.Error())
					w.mu.Unlock()
				}
				_ = cmd.Wait()
				return
			}
			w.mu.Lock()
			w.events = append(w.events, ev.Type+" "+str(ev.Object, "metadata", "name"))
			w.mu.Unlock()
		}
	}()
	t.Cleanup(w.stop)
	return w
}

func (w *watcher) stop() {
	w.cancel()
	<-w.done
}

func (w *watcher) has(ev string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return contains(w.events, ev)
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return fmt.Sprintf("events %v; stderr %s", w.events, w.stderr.String())
}

// establishWatches starts a watch of each ARL resource in ns. Each has a
// marker object created before it starts, so the watch is established when
// its list shows the marker: a watch started with --watch-only gives no
// such sign, and an object created before its first list would never be
// printed as ADDED.
func establishWatches(t *testing.T, ns string) map[string]*watcher {
	t.Helper()
	markers := map[string]string{ // plural -> YAML of an object that needs no pod
		"warmpools": strings.Replace(fmt.Sprintf(warmPoolYAML, 0), "name: python-pool", "name: marker", 1),
		"sandboxes": strings.NewReplacer("name: my-workspace", "name: marker", "poolRef: python-pool", "poolRef: no-such-pool").Replace(sandboxYAML),
		"tasks":     strings.NewReplacer("name: hello-task", "name: marker", "sandboxRef: my-workspace", "sandboxRef: no-such-sandbox").Replace(taskYAML),
	}
	watches := map[string]*watcher{}
	for plural := range arlResources {
		kubectlIn(t, markers[plural], "create", "-n", ns, "-f", "-")
		watches[plural] = startWatch(t, ns, plural, "marker")
	}
	return watches
}

// TestCRUD: the full create/get/list/watch/describe/delete cycle of the three
// kinds through kube-apiserver, with the manual's YAML.
func TestCRUD(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "crud")

	watches := establishWatches(t, ns)
	created := map[string]string{ // plural -> name
		"warmpools": "python-pool",
		"sandboxes": "my-workspace",
		"tasks":     "hello-task",
	}
	out := kubectlIn(t, fmt.Sprintf(warmPoolYAML, 1), "apply", "-n", ns, "-f", "-")
	if !strings.Contains(out, "warmpool.arl.infra.io/python-pool created") {
		t.Errorf("apply warmpool: %q", out)
	}
	out = kubectlIn(t, sandboxYAML, "apply", "-n", ns, "-f", "-")
	if !strings.Contains(out, "sandbox.arl.infra.io/my-workspace created") {
		t.Errorf("apply sandbox: %q", out)
	}
	out = kubectlIn(t, taskYAML, "apply", "-n", ns, "-f", "-")
	if !strings.Contains(out, "task.arl.infra.io/hello-task created") {
		t.Errorf("apply task: %q", out)
	}

	for plural, name := range created {
		kind := arlResources[plural]
		// get: the object as stored, the spec the user wrote
		obj := getJSON(t, plural, name, "-n", ns)
		if str(obj, "kind") != kind || str(obj, "apiVersion") != arlGroup+"/"+arlVersion || str(obj, "metadata", "uid") == "" {
			t.Errorf("get %s/%s: kind %q apiVersion %q uid %q", plural, name, str(obj, "kind"), str(obj, "apiVersion"), str(obj, "metadata", "uid"))
		}
		// get as a table: the server's columns, the name in the first
		table := kubectl(t, "get", plural, name, "-n", ns)
		lines := strings.Split(strings.TrimSpace(table), "\n")
		if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], name+" ") {
			t.Errorf("get %s table:\n%s", plural, table)
		}
		if wide := kubectl(t, "get", plural, name, "-n", ns, "-o", "wide"); len(strings.Fields(strings.Split(wide, "\n")[0])) < len(strings.Fields(lines[0])) {
			t.Errorf("-o wide has fewer columns than the default:\n%s\n%s", wide, table)
		}
		// list
		list := getJSON(t, plural, "-n", ns)
		var names []string
		items, _ := list["items"].([]any)
		for _, it := range items {
			names = append(names, str(it, "metadata", "name"))
		}
		if !contains(names, name) {
			t.Errorf("list %s: %v lacks %s", plural, names, name)
		}
		// describe
		desc := kubectl(t, "describe", plural, name, "-n", ns)
		for _, want := range []string{"Name:", name, "Namespace:", ns, kind} {
			if !strings.Contains(desc, want) {
				t.Errorf("describe %s/%s lacks %q:\n%s", plural, name, want, desc)
			}
		}
	}
	// The spec round-trips as written.
	task := getJSON(t, "task", "hello-task", "-n", ns)
	steps, _ := field(task, "spec", "steps").([]any)
	if len(steps) != 2 || str(steps[0], "type") != "FilePatch" || str(steps[1], "type") != "Command" ||
		str(task, "spec", "sandboxRef") != "my-workspace" {
		t.Errorf("task spec: %v", field(task, "spec"))
	}
	if !strings.Contains(kubectl(t, "get", "task", "hello-task", "-n", ns, "-o", "jsonpath={.spec.steps[0].content}"), "Hello from ARL!") {
		t.Errorf("task step content lost")
	}
	// kubectl get warmpool,sandbox,task (the manual's debugging command) and the arl category
	all := kubectl(t, "get", "warmpool,sandbox,task", "-n", ns, "-o", "name")
	for _, want := range []string{"warmpool.arl.infra.io/python-pool", "sandbox.arl.infra.io/my-workspace", "task.arl.infra.io/hello-task"} {
		if !strings.Contains(all, want) {
			t.Errorf("get warmpool,sandbox,task lacks %s:\n%s", want, all)
		}
	}
	cat := kubectl(t, "get", "arl", "-n", ns, "-o", "name")
	if !strings.Contains(cat, "task.arl.infra.io/hello-task") || !strings.Contains(cat, "warmpool.arl.infra.io/python-pool") {
		t.Errorf("kubectl get arl:\n%s", cat)
	}

	// delete: task, sandbox, pool; each is gone afterwards
	for _, plural := range []string{"tasks", "sandboxes", "warmpools"} {
		name := created[plural]
		out := kubectl(t, "delete", plural, name, "-n", ns, "--timeout=120s")
		if !strings.Contains(out, "deleted") {
			t.Errorf("delete %s/%s: %q", plural, name, out)
		}
		r := runKubectl(kubeconfig, "", "get", plural, name, "-n", ns)
		if r.err == nil || !strings.Contains(r.stderr, "NotFound") {
			t.Errorf("%s/%s after delete: %s", plural, name, r)
		}
	}
	// watch saw each object come and go
	for plural, name := range created {
		w := watches[plural]
		waitFor(t, 30*time.Second, plural+" watch events", func() (bool, string) {
			return w.has("ADDED "+name) && w.has("DELETED "+name), w.String()
		})
	}
}

// TestFieldSelectorAndLabels: list options go through to arl-apiserver.
func TestListOptions(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "list")
	for i, name := range []string{"a", "b", "c"} {
		y := strings.Replace(fmt.Sprintf(warmPoolYAML, 0), "name: python-pool", fmt.Sprintf("name: %s\n  labels: {tier: t%d}", name, i%2), 1)
		kubectlIn(t, y, "create", "-n", ns, "-f", "-")
	}
	got := strings.Fields(kubectl(t, "get", "warmpools", "-n", ns, "-l", "tier=t0", "-o", "jsonpath={.items[*].metadata.name}"))
	sort.Strings(got)
	if strings.Join(got, ",") != "a,c" {
		t.Errorf("label selector tier=t0: %v, want [a c]", got)
	}
	got = strings.Fields(kubectl(t, "get", "warmpools", "-n", ns, "--field-selector", "metadata.name=b", "-o", "jsonpath={.items[*].metadata.name}"))
	if strings.Join(got, ",") != "b" {
		t.Errorf("field selector metadata.name=b: %v", got)
	}
	// Across namespaces, as the admin.
	all := kubectl(t, "get", "warmpools", "-A", "-o", "jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name} {end}")
	for _, n := range []string{"a", "b", "c"} {
		if !strings.Contains(all, ns+"/"+n) {
			t.Errorf("get -A lacks %s/%s: %s", ns, n, all)
		}
	}
}

// TestNamespaceDeletionRemovesARLObjects: deleting a namespace deletes its
// WarmPools, Sandboxes and Tasks (kube-controller-manager's namespace
// controller lists and deletes every namespaced resource through the
// aggregation layer, asking for protobuf first) and the namespace goes away.
func TestNamespaceDeletionRemovesARLObjects(t *testing.T) {
	requireARL(t)
	ns := fmt.Sprintf("e2e-arl-nsdel-%s", randSuffix())
	kubectl(t, "create", "namespace", ns)
	t.Cleanup(func() { runKubectl(kubeconfig, "", "delete", "namespace", ns, "--wait=false", "--ignore-not-found") })
	kubectlIn(t, fmt.Sprintf(warmPoolYAML, 0), "create", "-n", ns, "-f", "-")
	kubectlIn(t, sandboxYAML, "create", "-n", ns, "-f", "-")
	kubectlIn(t, taskYAML, "create", "-n", ns, "-f", "-")

	kubectl(t, "delete", "namespace", ns, "--wait=false")
	waitFor(t, 120*time.Second, "namespace "+ns+" to be gone", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "get", "namespace", ns, "-o", "jsonpath={.status.conditions}")
		return r.err != nil && strings.Contains(r.stderr, "NotFound"), r.String()
	})
	for plural := range arlResources {
		if out := kubectl(t, "get", plural, "-n", ns, "-o", "name"); strings.TrimSpace(out) != "" {
			t.Errorf("%s left in deleted namespace %s: %s", plural, ns, out)
		}
	}
}

// TestControlPlaneLogs: the manual's debugging command works.
func TestControlPlaneLogs(t *testing.T) {
	requireARL(t)
	out := kubectl(t, "logs", "-n", "arl-system", "-l", "app=arl-operator", "--tail=50")
	if strings.TrimSpace(out) == "" {
		t.Errorf("kubectl logs -n arl-system -l app=arl-operator printed nothing")
	}
}

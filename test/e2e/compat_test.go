package e2e

// The manual's own system, pointed at ARL on a real cluster (issue 11): its
// SDK's pool (with a sidecar container of its own), Tasks naming a
// container and a traceID, keepAlive: false with Tasks back to back, and
// the reason of a Task that never ran in stderr. Standalone, the same runs
// in test/integration (pool/compat_test.go, tasks/compat_test.go).

import (
	"strings"
	"testing"
	"time"
)

// sdkPoolYAML is the pool the manual's SDK (WarmPoolManager.create_warmpool)
// writes. Its sidecar image exists nowhere and is pulled Always: a pod that
// ran it would never be Ready.
const sdkPoolYAML = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: sdk-pool
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: executor
          image: python:3.9-slim
          command: ["/bin/sh", "-c", "sleep infinity"]
          volumeMounts:
            - name: workspace
              mountPath: /workspace
        - name: sidecar
          image: registry.invalid/arl-sidecar:latest
          imagePullPolicy: Always
          ports:
            - name: http
              containerPort: 8080
            - name: grpc
              containerPort: 9090
          volumeMounts:
            - name: workspace
              mountPath: /workspace
      volumes:
        - name: workspace
          emptyDir: {}
`

// sdkTaskYAML is a Task as the manual's SDK writes it.
const sdkTaskYAML = `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: sdk-task
spec:
  sandboxRef: sdk-workspace
  traceID: 4bf92f3577b34da6a3ce929d0e0e4736
  steps:
    - name: write
      type: FilePatch
      path: /workspace/hello.py
      content: print("hello")
      container: sidecar
    - name: run
      type: Command
      command: ["python", "/workspace/hello.py"]
      container: executor
`

func TestManualSystemWorksUnmodified(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "compat")

	r := runKubectl(kubeconfig, sdkPoolYAML, "apply", "--validate=strict", "-n", ns, "-f", "-")
	if r.err != nil {
		t.Fatalf("%s", r)
	}
	if !strings.Contains(r.stderr, `ARL's own "sidecar" container replaces this one`) {
		t.Errorf("kubectl apply of the SDK's pool: no warning about its sidecar:\n%s", r.stderr)
	}
	waitPool(t, ns, "sdk-pool", 1, 0)
	for name, pod := range poolPods(t, ns, "sdk-pool") {
		for _, c := range pod.Spec.Containers {
			if c.Name == "sidecar" && strings.Contains(c.Image, "registry.invalid") {
				t.Errorf("pod %s runs the user's sidecar image %s", name, c.Image)
			}
		}
	}
	if got := kubectl(t, "get", "warmpool", "sdk-pool", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[1].image} {.spec.template.spec.containers[1].ports[*].containerPort}"); got != "registry.invalid/arl-sidecar:latest 8080 9090" {
		t.Errorf("the stored pool is not what the user wrote: %q", got)
	}

	kubectlIn(t, strings.NewReplacer("name: my-workspace", "name: sdk-workspace", "poolRef: python-pool", "poolRef: sdk-pool").Replace(sandboxYAML),
		"apply", "--validate=strict", "-n", ns, "-f", "-")
	waitSandbox(t, ns, "sdk-workspace", "Ready")

	t.Run("a Task with container and traceID on its steps", func(t *testing.T) {
		kubectlIn(t, sdkTaskYAML, "apply", "--validate=strict", "-n", ns, "-f", "-")
		task := waitTask(t, ns, "sdk-task", "Succeeded")
		if task.Status.Stdout != "hello\n" || len(task.Status.Steps) != 2 || task.Status.Steps[1].Stdout != "hello\n" || task.Status.Steps[0].Stdout != "" {
			t.Errorf("stdout and per-step stdout: %s", task)
		}
		// A failed Task's Event names its traceID (a succeeded one records
		// none by default: --task-events=failures).
		failing := strings.NewReplacer("name: sdk-task", "name: sdk-task-failed", "/workspace/hello.py\"]", "/workspace/missing.py\"]").Replace(sdkTaskYAML)
		kubectlIn(t, failing, "apply", "--validate=strict", "-n", ns, "-f", "-")
		waitTask(t, ns, "sdk-task-failed", "Failed")
		waitFor(t, time.Minute, "the failed Task's Event names its traceID", func() (bool, string) {
			out := kubectl(t, "describe", "task", "sdk-task-failed", "-n", ns)
			return strings.Contains(out, "(traceID 4bf92f3577b34da6a3ce929d0e0e4736)"), out
		})
	})

	t.Run("keepAlive false serves Tasks created back to back", func(t *testing.T) {
		createSandboxInPool(t, ns, "once", "sdk-pool", false)
		waitSandbox(t, ns, "once", "Ready")
		createTask(t, ns, newTask("first", "once", bash("slow", "sleep 1; echo one")))
		createTask(t, ns, newTask("second", "once", command("fast", "echo", "two")))
		for name, want := range map[string]string{"first": "one\n", "second": "two\n"} {
			if task := waitTask(t, ns, name, "Succeeded"); task.Status.Stdout != want {
				t.Errorf("%s", task)
			}
		}
		waitFor(t, 2*time.Minute, "the one-shot Sandbox deleted after its last Task", func() (bool, string) {
			r := runKubectl(kubeconfig, "", "get", "sandbox", "once", "-n", ns)
			return r.err != nil && strings.Contains(r.stderr, "NotFound"), r.stdout
		})
	})

	t.Run("a Task of a missing Sandbox says why in stderr", func(t *testing.T) {
		task := execTask(t, ns, newTask("orphan", "nobody", command("x", "true")))
		if want := `SandboxNotFound: Sandbox "nobody" does not exist in namespace "` + ns + `"` + "\n"; task.Status.State != "Failed" || task.Status.Stderr != want {
			t.Errorf("want Failed with stderr %q: %s", want, task)
		}
	})
}

// createSandboxInPool creates a Sandbox of another pool than the manual's.
func createSandboxInPool(t *testing.T, ns, name, pool string, keepAlive bool) {
	t.Helper()
	kubectlIn(t, strings.Replace(sandboxYAMLNamed(name, keepAlive), "poolRef: python-pool", "poolRef: "+pool, 1), "create", "-n", ns, "-f", "-")
}

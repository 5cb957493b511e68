package e2e

// The user manual's quick start and host-mode example, unmodified, on real
// pods: a WarmPool of python:3.9-slim pods with the arl-sidecar, a Sandbox
// bound to one, Tasks whose steps run in the user's image.

import (
	"regexp"
	"strings"
	"testing"
)

func TestQuickStart(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "quickstart")

	kubectlIn(t, strings.Replace(warmPoolYAML, "replicas: %d", "replicas: 1", 1), "apply", "-n", ns, "-f", "-")
	kubectlIn(t, sandboxYAML, "apply", "-n", ns, "-f", "-")
	r := runKubectl(kubeconfig, "", "wait", "-n", ns, "--for=jsonpath={.status.phase}=Ready", "sandbox/my-workspace", "--timeout=180s")
	if r.err != nil {
		t.Logf("pods: %s", runKubectl(kubeconfig, "", "get", "pods,arl", "-n", ns, "-o", "wide").stdout)
		t.Fatalf("sandbox never Ready: %s\n%s", r, runKubectl(kubeconfig, "", "describe", "sandbox", "my-workspace", "-n", ns).stdout)
	}
	sbx := getJSON(t, "sandbox", "my-workspace", "-n", ns)
	podName, podIP := str(sbx, "status", "podName"), str(sbx, "status", "podIP")
	if podName == "" || podIP == "" {
		t.Fatalf("Ready sandbox without podName/podIP: %v", field(sbx, "status"))
	}
	pod := getJSON(t, "pod", podName, "-n", ns)
	if str(pod, "status", "phase") != "Running" || str(pod, "status", "podIP") != podIP {
		t.Errorf("sandbox pod %s: phase %q IP %q, sandbox says %q", podName, str(pod, "status", "phase"), str(pod, "status", "podIP"), podIP)
	}

	kubectlIn(t, taskYAML, "apply", "-n", ns, "-f", "-")
	r = runKubectl(kubeconfig, "", "wait", "-n", ns, "--for=jsonpath={.status.state}=Succeeded", "task/hello-task", "--timeout=120s")
	if r.err != nil {
		t.Fatalf("hello-task did not succeed: %s\n%s", r, runKubectl(kubeconfig, "", "get", "task", "hello-task", "-n", ns, "-o", "yaml").stdout)
	}
	if out := kubectl(t, "get", "task", "hello-task", "-n", ns, "-o", "jsonpath={.status.stdout}"); out != "Hello from ARL!\nTask executed successfully\n" {
		t.Errorf("stdout %q", out)
	}
	if out := kubectl(t, "get", "task", "hello-task", "-n", ns, "-o", "jsonpath={.status.exitCode}"); out != "0" {
		t.Errorf("exitCode %q", out)
	}
	if out := kubectl(t, "get", "task", "hello-task", "-n", ns, "-o", "jsonpath={.status.stderr}"); out != "" {
		t.Errorf("stderr %q", out)
	}
	if desc := kubectl(t, "describe", "task", "hello-task", "-n", ns); !strings.Contains(desc, "Succeeded") {
		t.Errorf("describe task:\n%s", desc)
	}

	// Way 3 of host mode: an interactive shell in the executor container,
	// where the task's file is (the user's image, the shared workspace).
	if out := kubectl(t, "exec", "-n", ns, podName, "-c", "executor", "--", "python", "/workspace/hello.py"); !strings.HasPrefix(out, "Hello from ARL!") {
		t.Errorf("exec into the sandbox pod: %q", out)
	}
	if r := runKubectl(kubeconfig, "", "logs", "-n", ns, podName, "-c", "sidecar"); r.err != nil {
		t.Errorf("kubectl logs -c sidecar: %s", r)
	}
}

// TestHostModeFlask: the manual's way 2 of host mode: a Task starts Flask in
// the background and prints its PID; a second Task talks to it; a third
// stops it with pkill and checks that PID is gone.
func TestHostModeFlask(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "flask")
	kubectlIn(t, strings.Replace(warmPoolYAML, "replicas: %d", "replicas: 1", 1), "apply", "-n", ns, "-f", "-")
	kubectlIn(t, sandboxYAML, "apply", "-n", ns, "-f", "-")
	kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.phase}=Ready", "sandbox/my-workspace", "--timeout=180s")

	kubectlIn(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: start-flask-server
spec:
  sandboxRef: my-workspace
  timeout: 30s
  steps:
  - name: write-app
    type: FilePatch
    path: /workspace/app.py
    content: |
      from flask import Flask
      app = Flask(__name__)

      @app.route('/')
      def hello():
          return 'Hello from ARL Host Mode!'

      if __name__ == '__main__':
          app.run(host='0.0.0.0', port=5000)
  - name: start-server
    type: Command
    command: ["bash", "-c", "nohup python /workspace/app.py > /tmp/flask.log 2>&1 & echo $!"]
`, "apply", "-n", ns, "-f", "-")
	kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.state}=Succeeded", "task/start-flask-server", "--timeout=60s")
	pid := strings.TrimSpace(kubectl(t, "get", "task", "start-flask-server", "-n", ns, "-o", "jsonpath={.status.stdout}"))
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(pid) {
		t.Fatalf("FLASK_PID %q is not a PID", pid)
	}

	kubectlIn(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: test-flask
spec:
  sandboxRef: my-workspace
  timeout: 30s
  steps:
  - name: wait
    type: Command
    command: ["sleep", "2"]
  - name: curl
    type: Command
    command: ["curl", "-sS", "--retry", "5", "--retry-connrefused", "--retry-delay", "1", "http://localhost:5000"]
`, "apply", "-n", ns, "-f", "-")
	kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.state}=Succeeded", "task/test-flask", "--timeout=60s")
	if out := kubectl(t, "get", "task", "test-flask", "-n", ns, "-o", "jsonpath={.status.stdout}"); out != "Hello from ARL Host Mode!" {
		t.Errorf("flask answered %q", out)
	}

	// The manual stops it with `pkill -f flask`, which matches no process:
	// the server's command line is "python /workspace/app.py" (pkill exits
	// 1, the Task fails, Flask runs on). pkill by that command line works,
	// as does kill $FLASK_PID.
	kubectlIn(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: stop-flask
spec:
  sandboxRef: my-workspace
  steps:
  - name: stop
    type: Command
    command: ["pkill", "-f", "/workspace/app.py"]
  - name: gone
    type: Command
    command: ["bash", "-c", "for i in $(seq 50); do kill -0 `+pid+` 2>/dev/null || exit 0; sleep 0.1; done; exit 1"]
`, "apply", "-n", ns, "-f", "-")
	kubectl(t, "wait", "-n", ns, "--for=jsonpath={.status.state}=Succeeded", "task/stop-flask", "--timeout=60s")
}

/*
Copyright 2026 The ARL Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package tasks

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

// TestQuickStartWithKubectl is the manual's four steps, as typed.
func TestQuickStartWithKubectl(t *testing.T) {
	e := newEnv(t, 2)
	k := e.server.Kubectl()
	root, _ := framework.ModuleRoot()
	examples := filepath.Join(root, "artifacts", "examples")
	k.MustRun("apply", "-f", filepath.Join(examples, "sandbox.yaml"))
	k.MustRun("apply", "-f", filepath.Join(examples, "task.yaml"))
	k.MustRun("wait", "--for=jsonpath={.status.state}=Succeeded", "task/hello-task", "--timeout=120s")
	if got := k.MustRun("get", "task", "hello-task", "-o", "jsonpath={.status.stdout}"); got != "Hello from ARL!\nTask executed successfully\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := k.MustRun("get", "task", "hello-task", "-o", "jsonpath={.status.exitCode}"); got != "0" {
		t.Errorf("exitCode = %q", got)
	}
	if got := k.MustRun("get", "task", "hello-task", "-o", "jsonpath={.status.stderr}"); got != "" {
		t.Errorf("stderr = %q", got)
	}
	out := k.MustRun("describe", "task", "hello-task")
	for _, want := range []string{"State:", "Succeeded", "Hello from ARL!"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	// Events tell the story in standalone mode too (a succeeded Task's
	// status does; its Event is recorded with --task-events=all only).
	framework.Eventually(t, 30*time.Second, "describe shows the Sandbox's Events", func() bool {
		return strings.Contains(k.MustRun("describe", "sandbox", "my-workspace"), "Normal  Bound")
	})
	if out := k.MustRun("get", "task", "hello-task"); !strings.Contains(out, "Succeeded") || !strings.Contains(out, " 0 ") {
		t.Errorf("get task:\n%s", out)
	}
}

// TestManualExamples runs the manual's other examples.
func TestManualExamples(t *testing.T) {
	e := newEnv(t, 1, "my-workspace")

	t.Run("data processing with workDir", func(t *testing.T) {
		process := command("process", "python3", "process.py")
		process.WorkDir = "/workspace"
		task := e.exec(newTask("data", "my-workspace",
			filePatch("data", "/workspace/data.json", `{"users": [{"name": "Alice"}, {"name": "Bob"}]}`),
			filePatch("script", "/workspace/process.py", "import json\nusers = json.load(open('data.json'))['users']\nprint(f'Processed {len(users)} users')\nfor u in users:\n    print(f\"  - {u['name']}\")\n"),
			process))
		mustState(t, task, arlv1alpha1.TaskSucceeded)
		if task.Status.Stdout != "Processed 2 users\n  - Alice\n  - Bob\n" {
			t.Errorf("stdout %q", task.Status.Stdout)
		}
	})

	t.Run("environment variables", func(t *testing.T) {
		step := bash("env", `echo "env=$APP_ENV version=$VERSION"`)
		step.Env = map[string]string{"APP_ENV": "production", "VERSION": "1.0.0"}
		task := e.exec(newTask("env", "my-workspace", step))
		if task.Status.Stdout != "env=production version=1.0.0\n" {
			t.Errorf("stdout %q", task.Status.Stdout)
		}
	})

	t.Run("conditional step stops the task", func(t *testing.T) {
		task := e.exec(newTask("conditional", "my-workspace",
			command("check", "test", "-f", "/workspace/config.json"),
			bash("use", "echo should not run")))
		mustState(t, task, arlv1alpha1.TaskFailed)
		if len(task.Status.Steps) != 1 || exitCode(task) != "1" || task.Status.Stdout != "" || reason(task) != "StepFailed" {
			t.Errorf("steps %+v exitCode %s stdout %q reason %s", task.Status.Steps, exitCode(task), task.Status.Stdout, reason(task))
		}
	})

	t.Run("command not found is 127", func(t *testing.T) {
		task := e.exec(newTask("missing", "my-workspace", command("nope", "no-such-program")))
		if exitCode(task) != "127" || task.Status.Stderr == "" {
			t.Errorf("exitCode %s stderr %q", exitCode(task), task.Status.Stderr)
		}
	})

	t.Run("files persist across tasks of a keepAlive sandbox", func(t *testing.T) {
		e.exec(newTask("write", "my-workspace", filePatch("w", "state.txt", "42")))
		task := e.exec(newTask("read", "my-workspace", command("r", "cat", "/workspace/state.txt")))
		if task.Status.Stdout != "42" {
			t.Errorf("stdout %q", task.Status.Stdout)
		}
	})

	t.Run("FilePatch writes outside /workspace and adds nothing to stdout", func(t *testing.T) {
		mode := int32(0o755)
		patch := filePatch("script", "/tmp/tools/run.sh", "#!/bin/sh\necho ran\n")
		patch.Mode = &mode
		task := e.exec(newTask("anywhere", "my-workspace", patch, command("run", "/tmp/tools/run.sh")))
		mustState(t, task, arlv1alpha1.TaskSucceeded)
		if task.Status.Stdout != "ran\n" {
			t.Errorf("stdout %q: FilePatch must add nothing", task.Status.Stdout)
		}
	})

	t.Run("the generated clientset's Exec", func(t *testing.T) {
		task, err := e.arl.Tasks(ns).Exec(e.ctx, "typed", newTask("typed", "my-workspace", command("hi", "echo", "typed client")), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mustState(t, task, arlv1alpha1.TaskSucceeded)
		if task.Status.Stdout != "typed client\n" {
			t.Errorf("stdout %q", task.Status.Stdout)
		}
	})

	t.Run("a read-only path fails the FilePatch step with a message", func(t *testing.T) {
		task := e.exec(newTask("readonly", "my-workspace", filePatch("w", "/usr/arl-test.txt", "x")))
		mustState(t, task, arlv1alpha1.TaskFailed)
		if task.Status.Steps[0].Message == "" || exitCode(task) != "1" {
			t.Errorf("step %+v", task.Status.Steps[0])
		}
	})
}

// TestHostModeWithTasks is the manual's Way 2: a Task starts a server with
// nohup and prints its PID, a second Task talks to it, a third stops it.
func TestHostModeWithTasks(t *testing.T) {
	e := newEnv(t, 1, "my-workspace")
	k := e.server.Kubectl()
	k.Run(`apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata: {name: start-server}
spec:
  sandboxRef: my-workspace
  timeout: 30s
  steps:
  - name: app
    type: FilePatch
    path: /workspace/app.py
    content: |
      import http.server
      class H(http.server.BaseHTTPRequestHandler):
          def do_GET(self):
              self.send_response(200); self.end_headers(); self.wfile.write(b"Hello from ARL Host Mode!")
      http.server.HTTPServer(("127.0.0.1", 5000), H).serve_forever()
  - name: start
    type: Command
    command: ["bash", "-c", "nohup python3 /workspace/app.py > /tmp/app.log 2>&1 & echo $!"]
`, "apply", "-f", "-")
	k.MustRun("wait", "--for=jsonpath={.status.state}=Succeeded", "task/start-server", "--timeout=30s")
	pid := strings.TrimSpace(k.MustRun("get", "task", "start-server", "-o", "jsonpath={.status.stdout}"))
	if pid == "" {
		t.Fatal("no PID on stdout")
	}
	task := e.exec(newTask("call", "my-workspace", bash("curl",
		`for i in $(seq 50); do python3 -c 'import urllib.request;print(urllib.request.urlopen("http://127.0.0.1:5000").read().decode())' 2>/dev/null && exit 0; sleep 0.1; done; exit 1`)))
	if task.Status.Stdout != "Hello from ARL Host Mode!\n" {
		t.Fatalf("second task: %q %q", task.Status.Stdout, task.Status.Stderr)
	}
	task = e.exec(newTask("stop", "my-workspace", command("kill", "kill", pid)))
	mustState(t, task, arlv1alpha1.TaskSucceeded)
	task = e.exec(newTask("gone", "my-workspace", bash("check", "for i in $(seq 50); do kill -0 "+pid+" 2>/dev/null || exit 0; sleep 0.1; done; exit 1")))
	mustState(t, task, arlv1alpha1.TaskSucceeded)
}

// TestHostModeSubresources: a background step reports its PID, and
// processes, signal and reset reach it through the API.
func TestHostModeSubresources(t *testing.T) {
	e := newEnv(t, 1, "my-workspace")
	k := e.server.Kubectl()
	bg := command("server", "sleep", "1000")
	bg.Background = true
	task := e.exec(newTask("background", "my-workspace", bg, command("after", "echo", "moved on")))
	mustState(t, task, arlv1alpha1.TaskSucceeded)
	pid := task.Status.Steps[0].PID
	if pid == 0 || task.Status.Stdout != "moved on\n" {
		t.Fatalf("background step: %+v stdout %q", task.Status.Steps[0], task.Status.Stdout)
	}
	base := "/apis/arl.infra.io/v1alpha1/namespaces/default/sandboxes/my-workspace/"
	out := k.MustRun("get", "--raw", base+"processes")
	if !strings.Contains(out, `"command":["sleep","1000"]`) || !strings.Contains(out, `"state":"Running"`) {
		t.Errorf("processes: %s", out)
	}
	r := k.Run(`{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxSignal","pid":`+itoa(pid)+`,"signal":"SIGTERM"}`, "create", "--raw", base+"signal", "-f", "-")
	if r.Err != nil || !strings.Contains(r.Stdout, `"signal":"SIGTERM"`) {
		t.Errorf("signal: %v %s %s", r.Err, r.Stdout, r.Stderr)
	}
	framework.Eventually(t, 30*time.Second, "the signalled process exited", func() bool {
		return strings.Contains(k.MustRun("get", "--raw", base+"processes"), `"state":"Exited"`)
	})
	if r := k.Run(`{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxSignal","pid":99999}`, "create", "--raw", base+"signal", "-f", "-"); r.Err == nil || !strings.Contains(r.Stderr, "NotFound") || !strings.Contains(r.Stderr, "99999") {
		t.Errorf("signal to an unknown pid: %v %s", r.Err, r.Stderr)
	}
	// Bad bodies are refused before the agent is asked, naming the field.
	for body, field := range map[string]string{
		`{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxSignal","signal":"SIGTERM"}`:                    "pid",
		`{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxSignal","pid":-1}`:                              "pid",
		`{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxSignal","pid":5,"signal":"SIGNOPE"}`:            "signal",
		`{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxSignal","metadata":{"name":"another"},"pid":5}`: "metadata.name",
	} {
		r := k.Run(body, "create", "--raw", base+"signal", "-f", "-")
		if r.Err == nil || !strings.Contains(r.Stderr, "is invalid: "+field) {
			t.Errorf("signal %s: want a 422 naming %s, got %v %s", body, field, r.Err, r.Stderr)
		}
	}

	e.exec(newTask("litter", "my-workspace", filePatch("f", "junk.txt", "x"), bash("bg", "sleep 500 & sleep 600 & echo started")))
	r = k.Run(`{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxReset"}`, "create", "--raw", base+"reset", "-f", "-")
	if r.Err != nil || !strings.Contains(r.Stdout, "junk.txt") {
		t.Fatalf("reset: %v %s %s", r.Err, r.Stdout, r.Stderr)
	}
	task = e.exec(newTask("after-reset", "my-workspace", bash("check", "ls -A /workspace; pgrep -fc 'sleep [56]00' || true")))
	if task.Status.Stdout != "0\n" {
		t.Errorf("after reset the workspace and processes must be empty: %q", task.Status.Stdout)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

package e2e

// Tasks on real pods through kube-apiserver's aggregation layer (issue 6):
// the manual's examples, tasks/exec (past kube-apiserver's 60 s cut for
// ordinary requests, and surviving a client that goes away), tasks/log
// following a running Task, concurrency, large output, an arl-apiserver
// restart mid-Task, and the host-mode subresources.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// taskEnv is a namespace with the manual's pool and Ready Sandboxes.
func taskEnv(t *testing.T, prefix string, idle int, sandboxes ...string) string {
	t.Helper()
	requireARL(t)
	ns := newNamespace(t, prefix)
	createPool(t, ns, idle)
	for _, name := range sandboxes {
		createSandbox(t, ns, name, true)
	}
	for _, name := range sandboxes {
		waitSandbox(t, ns, name, "Ready")
	}
	return ns
}

// TestManualTaskExamples: the manual's Task examples, as it writes them,
// applied with kubectl and awaited with kubectl wait; stdout is exactly
// what the commands printed.
func TestManualTaskExamples(t *testing.T) {
	ns := taskEnv(t, "examples", 1, "my-workspace")

	t.Run("data processing with workDir", func(t *testing.T) {
		kubectlIn(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: data-process
spec:
  sandboxRef: my-workspace
  timeout: 60s
  steps:
    - name: create-data
      type: FilePatch
      path: /workspace/data.json
      content: |
        {"users": [{"id": 1, "name": "Alice"}, {"id": 2, "name": "Bob"}]}

    - name: process-data
      type: FilePatch
      path: /workspace/process.py
      content: |
        import json
        with open('data.json') as f:
            data = json.load(f)
        print(f"Processed {len(data['users'])} users")
        for user in data['users']:
            print(f"  - {user['name']}")

    - name: run-process
      type: Command
      command: ["python", "process.py"]
      workDir: /workspace
`, "apply", "-n", ns, "-f", "-")
		waitTask(t, ns, "data-process", "Succeeded")
		if out := kubectl(t, "get", "task", "data-process", "-n", ns, "-o", "jsonpath={.status.stdout}"); out != "Processed 2 users\n  - Alice\n  - Bob\n" {
			t.Errorf("stdout %q", out)
		}
	})

	t.Run("environment variables", func(t *testing.T) {
		kubectlIn(t, `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: env-task
spec:
  sandboxRef: my-workspace
  timeout: 30s
  steps:
    - name: write-app
      type: FilePatch
      path: /workspace/app.py
      content: |
        import os
        print(f"Environment: {os.getenv('APP_ENV')}")
        print(f"Version: {os.getenv('VERSION')}")

    - name: run-with-env
      type: Command
      command: ["python", "app.py"]
      env:
        APP_ENV: "production"
        VERSION: "1.0.0"
`, "apply", "-n", ns, "-f", "-")
		if task := waitTask(t, ns, "env-task", "Succeeded"); task.Status.Stdout != "Environment: production\nVersion: 1.0.0\n" {
			t.Errorf("stdout %q", task.Status.Stdout)
		}
	})

	t.Run("a failed step stops the Task", func(t *testing.T) {
		conditional := func(name string) taskSpec {
			return newTask(name, "my-workspace",
				command("check-file", "test", "-f", "/workspace/config.json"),
				command("use-file", "cat", "/workspace/config.json"))
		}
		createTask(t, ns, conditional("conditional"))
		task := waitTask(t, ns, "conditional", "Failed")
		if len(task.Status.Steps) != 1 || task.exitCode() != "1" || task.Status.Stdout != "" || task.reason() != "StepFailed" {
			t.Errorf("only check-file must run and fail: %s", task)
		}
		execTask(t, ns, newTask("write-config", "my-workspace", filePatch("config", "/workspace/config.json", `{"debug": true}`)))
		createTask(t, ns, conditional("conditional-again"))
		if task := waitTask(t, ns, "conditional-again", "Succeeded"); task.Status.Stdout != `{"debug": true}` || len(task.Status.Steps) != 2 {
			t.Errorf("with the file both steps run: %s", task)
		}
	})

	t.Run("command not found is 127", func(t *testing.T) {
		task := execTask(t, ns, newTask("missing", "my-workspace", command("nope", "no-such-program")))
		if task.Status.State != "Failed" || task.exitCode() != "127" || task.Status.Stderr == "" {
			t.Errorf("%s", task)
		}
	})

	t.Run("a Task lasts no longer than the call that ran it", func(t *testing.T) {
		// Not a speed check: whatever the machine, status.duration of a
		// Task run by one tasks/exec call fits within that call.
		for i := 0; i < 5; i++ {
			began := time.Now()
			task := execTask(t, ns, newTask(fmt.Sprintf("quick-%d", i), "my-workspace", command("true", "true")))
			call := time.Since(began)
			d, err := time.ParseDuration(task.Status.Duration)
			if err != nil || d > call {
				t.Errorf("status.duration %q (%v), the exec call took %s: %s", task.Status.Duration, err, call, task)
			}
		}
	})

	t.Run("timeout kills the process group", func(t *testing.T) {
		task := execTask(t, ns, newTask("slow", "my-workspace",
			bash("slow", "sleep 300 & echo $! > /workspace/child.pid; sleep 300")).set("timeout", "2s"))
		if task.Status.State != "Failed" || task.reason() != "TimedOut" || len(task.Status.Steps) != 1 || !task.Status.Steps[0].TimedOut {
			t.Fatalf("want Failed TimedOut: %s", task)
		}
		check := execTask(t, ns, newTask("child", "my-workspace",
			bash("alive", "kill -0 $(cat /workspace/child.pid) 2>/dev/null && echo alive || echo gone")))
		if check.Status.Stdout != "gone\n" {
			t.Errorf("the timed-out step's background child survived: %s", check)
		}
	})

	t.Run("retries", func(t *testing.T) {
		task := execTask(t, ns, newTask("flaky", "my-workspace", bash("flaky",
			`n=$(cat /workspace/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /workspace/n; echo "attempt $n"; [ $n -ge 3 ]`)).
			set("retries", 3).set("timeout", "60s"))
		if task.Status.State != "Succeeded" || task.Status.Attempts != 3 || task.Status.Stdout != "attempt 3\n" {
			t.Errorf("want Succeeded on attempt 3: %s", task)
		}
		task = execTask(t, ns, newTask("hopeless", "my-workspace", command("fail", "false")).set("retries", 2))
		if task.Status.State != "Failed" || task.Status.Attempts != 3 {
			t.Errorf("want Failed after 1 + 2 attempts: %s", task)
		}
	})

	t.Run("one-shot Sandbox and ttlSecondsAfterFinished", func(t *testing.T) {
		createSandbox(t, ns, "once", false)
		once := waitSandbox(t, ns, "once", "Ready")
		task := execTask(t, ns, newTask("only", "once", command("hi", "echo", "hi")).set("ttlSecondsAfterFinished", 2))
		if task.Status.State != "Succeeded" || task.Status.Stdout != "hi\n" {
			t.Fatalf("%s", task)
		}
		waitFor(t, 2*time.Minute, "the one-shot Sandbox deleted after its Task", func() (bool, string) {
			r := runKubectl(kubeconfig, "", "get", "sandbox", "once", "-n", ns)
			return r.err != nil && strings.Contains(r.stderr, "NotFound"), r.stdout
		})
		waitFor(t, 2*time.Minute, "its pod deleted", func() (bool, string) {
			r := runKubectl(kubeconfig, "", "get", "pod", once.Status.PodName, "-n", ns)
			return r.err != nil && strings.Contains(r.stderr, "NotFound"), r.stdout
		})
		waitFor(t, 2*time.Minute, "the Task deleted after its TTL", func() (bool, string) {
			r := runKubectl(kubeconfig, "", "get", "task", "only", "-n", ns)
			return r.err != nil && strings.Contains(r.stderr, "NotFound"), r.stdout
		})
	})
}

// TestConcurrentTasks: 64 Tasks at once across 16 Sandboxes, each through
// its own tasks/exec call. Each answer is its own Task's output; Tasks of
// one Sandbox never overlap; Tasks of different Sandboxes do. On one
// replica: Tasks of one Sandbox submitted at the same moment to two
// replicas are not ordered against each other (docs/architecture.md,
// "Order"), and the install's default is two.
func TestConcurrentTasks(t *testing.T) {
	requireARL(t)
	kubectl(t, "scale", "-n", arlSystem, arlDeployment, "--replicas=1")
	t.Cleanup(func() {
		kubectl(t, "scale", "-n", arlSystem, arlDeployment, "--replicas=2")
		waitARLServers(t, 2)
	})
	waitARLServers(t, 1)
	const sandboxes, perSandbox = 16, 4
	var names []string
	for i := 0; i < sandboxes; i++ {
		names = append(names, fmt.Sprintf("sb-%d", i))
	}
	// No idle pods: the 16 Pending Sandboxes get the 16 pods the pool makes.
	ns := taskEnv(t, "concurrent", 0, names...)

	results := make([]kubectlResult, sandboxes*perSandbox)
	parallel(len(results), func(i int) {
		sb, j := names[i%sandboxes], i/sandboxes
		name := fmt.Sprintf("%s-t%d", sb, j)
		task := newTask(name, sb, bash("run", fmt.Sprintf(
			`echo "start %d $(date +%%s%%N)" >> /workspace/log; sleep 1; echo "end %d $(date +%%s%%N)" >> /workspace/log; echo %s`, j, j, name)))
		results[i] = runKubectl(kubeconfig, task.json(), "create", "--raw", execPath(ns, name), "-f", "-")
	})
	for i, r := range results {
		name := fmt.Sprintf("%s-t%d", names[i%sandboxes], i/sandboxes)
		if r.err != nil {
			t.Errorf("exec %s: %s", name, r)
			continue
		}
		var task taskObj
		decode(t, r.stdout, &task)
		if task.Metadata.Name != name || task.Status.State != "Succeeded" || task.Status.Stdout != name+"\n" {
			t.Errorf("exec %s answered %s", name, task)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	type span struct{ start, end int64 }
	var all []span
	for _, sb := range names {
		log := execTask(t, ns, newTask(sb+"-log", sb, command("cat", "cat", "/workspace/log"))).Status.Stdout
		f := strings.Fields(log)
		if len(f) != perSandbox*6 {
			t.Errorf("%s log:\n%s", sb, log)
			continue
		}
		for i := 0; i < len(f); i += 6 {
			if f[i] != "start" || f[i+3] != "end" || f[i+1] != f[i+4] {
				t.Errorf("Tasks of %s overlapped:\n%s", sb, log)
				break
			}
			s, _ := strconv.ParseInt(f[i+2], 10, 64)
			e, _ := strconv.ParseInt(f[i+5], 10, 64)
			all = append(all, span{s, e})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].start < all[j].start })
	overlap := false
	for i := 1; i < len(all); i++ {
		if all[i].start < all[i-1].end {
			overlap = true
		}
	}
	if !overlap {
		t.Errorf("no two Tasks of different Sandboxes ran at the same time")
	}
}

// TestLargeOutput: 5 MiB of output; the Task succeeds, its status keeps
// the tail with the truncation flag.
func TestLargeOutput(t *testing.T) {
	ns := taskEnv(t, "bigout", 1, "sb")
	task := execTask(t, ns, newTask("big", "sb", bash("big", `head -c 5242880 /dev/zero | tr '\0' 'x'; echo; echo END`)))
	mustState(t, task, "Succeeded")
	out := task.Status.Stdout
	if !task.Status.StdoutTruncated || !strings.HasSuffix(out, "x\nEND\n") || len(out) > 1<<20 || strings.Trim(out, "x\nEND") != "" {
		t.Errorf("stdout: truncated %v, %d bytes, ends %q", task.Status.StdoutTruncated, len(out), out[max(0, len(out)-10):])
	}
	if got := kubectl(t, "get", "task", "big", "-n", ns, "-o", "jsonpath={.status.state} {.status.stdoutTruncated}"); got != "Succeeded true" {
		t.Errorf("stored Task: %q", got)
	}
}

// TestExecPast60sAndLogFollow: a Task of 70 s through tasks/exec, via
// kube-apiserver (which cuts ordinary requests at 60 s), answers the
// finished Task; meanwhile tasks/log?follow=true streams its lines as they
// are printed, to the end.
func TestExecPast60sAndLogFollow(t *testing.T) {
	// Mostly waiting: it runs in parallel, after the sequential tests (those
	// that restart or scale arl-apiserver are never parallel).
	t.Parallel()
	ns := taskEnv(t, "long", 1, "sb")
	const want = "tick 1\ntick 2\ntick 3\ntick 4\ntick 5\ntick 6\ntick 7\ndone\n"
	task := newTask("seventy", "sb", bash("tick", "for i in 1 2 3 4 5 6 7; do echo tick $i; sleep 10; done; echo done"))
	execCall := startKubectl(task.json(), "create", "--raw", execPath(ns, "seventy"), "-f", "-")
	waitFor(t, time.Minute, "the Task to run", func() (bool, string) {
		var got taskObj
		err := getInto(&got, "task", "seventy", "-n", ns)
		return err == nil && got.Status.State == "Running", fmt.Sprint(err)
	})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	follow := exec.CommandContext(ctx, kubectlBin, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir,
		"get", "--raw", arlBase+ns+"/tasks/seventy/log?follow=true")
	stdout, err := follow.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	follow.Stderr = &stderr
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	reader := bufio.NewReader(stdout)
	first, err := reader.ReadString('\n')
	if err != nil || first != "tick 1\n" {
		t.Fatalf("first line of the log %q: %v %s", first, err, stderr.String())
	}
	if got := getTask(t, ns, "seventy"); got.Status.State != "Running" {
		t.Errorf("the first line arrived when the Task was %s, want Running: the log must stream", got.Status.State)
	}
	rest, err := io.ReadAll(reader)
	if werr := follow.Wait(); err != nil || werr != nil {
		t.Errorf("following the log: %v %v %s", err, werr, stderr.String())
	}
	if log := first + string(rest); log != want {
		t.Errorf("followed log %q, want %q", log, want)
	}

	r := execCall.wait()
	if r.err != nil {
		t.Fatalf("exec of a 70 s Task through kube-apiserver: %s", r)
	}
	var done taskObj
	decode(t, r.stdout, &done)
	if done.Status.State != "Succeeded" || done.Status.Stdout != want {
		t.Errorf("exec answered %s", done)
	}
}

// TestExecClientDisconnect: a client killed mid-exec loses nothing: the
// Task runs on and stores its result; exec again (same body, or none)
// answers it without running it again; a different Task under the name is
// a conflict.
func TestExecClientDisconnect(t *testing.T) {
	ns := taskEnv(t, "disconnect", 1, "sb")
	task := newTask("patient", "sb", bash("work", "echo ran >> /workspace/runs; sleep 5; echo done"))
	call := startKubectl(task.json(), "create", "--raw", execPath(ns, "patient"), "-f", "-")
	waitFor(t, time.Minute, "the Task to run", func() (bool, string) {
		var got taskObj
		err := getInto(&got, "task", "patient", "-n", ns)
		return err == nil && got.Status.State == "Running", fmt.Sprint(err)
	})
	if err := call.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if r := call.wait(); r.err == nil {
		t.Fatalf("kubectl was killed mid-exec but succeeded: %s", r)
	}

	done := waitTask(t, ns, "patient", "Succeeded")
	if done.Status.Stdout != "done\n" || done.Status.Attempts != 1 {
		t.Errorf("the Task after its client went away: %s", done)
	}
	again := execTask(t, ns, task)
	if again.Status.State != "Succeeded" || again.Status.Stdout != "done\n" || again.Metadata.UID != done.Metadata.UID {
		t.Errorf("exec of the same Task again: %s", again)
	}
	r := runKubectl(kubeconfig, "", "create", "--raw", execPath(ns, "patient"), "-f", "/dev/null")
	if r.err != nil || !strings.Contains(r.stdout, `"stdout":"done\n"`) {
		t.Errorf("exec without a body: %s", r)
	}
	runs := execTask(t, ns, newTask("runs", "sb", command("cat", "cat", "/workspace/runs")))
	if runs.Status.Stdout != "ran\n" {
		t.Errorf("the Task ran %q times", runs.Status.Stdout)
	}
	r = runKubectl(kubeconfig, newTask("patient", "sb", command("other", "true")).json(), "create", "--raw", execPath(ns, "patient"), "-f", "-")
	if r.err == nil || !strings.Contains(r.stderr, "Conflict") {
		t.Errorf("exec of a different Task under an existing name: %s", r)
	}
	r = runKubectl(kubeconfig, "", "create", "--raw", execPath(ns, "nonexistent"), "-f", "/dev/null")
	if r.err == nil || !strings.Contains(r.stderr, "NotFound") {
		t.Errorf("exec of a missing Task without a body: %s", r)
	}
}

// TestRestartMidTaskFailsIt: arl-apiserver restarted (kubectl rollout
// restart) while a Task runs and another waits behind it, each with a
// tasks/exec client connected. The running Task is Failed with reason
// RunnerLost, and its client gets that as its answer; its steps are never
// run again. The queued Task's client is told to ask again, and the new
// replica runs that Task once. The old replica exits by itself
// (restartARL checks), its clients answered. One replica: Tasks of one
// Sandbox queue behind each other on the replica that accepted them, and
// two replicas would each take one (docs/architecture.md, "Order").
// The running Task outlasts the replica's --shutdown-task-grace.
func TestRestartMidTaskFailsIt(t *testing.T) {
	requireARL(t)
	kubectl(t, "scale", "-n", arlSystem, arlDeployment, "--replicas=1")
	t.Cleanup(func() {
		kubectl(t, "scale", "-n", arlSystem, arlDeployment, "--replicas=2")
		waitARLServers(t, 2)
	})
	waitARLServers(t, 1)
	ns := taskEnv(t, "runnerlost", 1, "sb")
	pod := getSandbox(t, ns, "sb").Status.PodName
	running := newTask("interrupted", "sb", bash("count", "echo run >> /workspace/runs; sleep 120"))
	queued := newTask("queued", "sb", bash("count", "echo queued >> /workspace/runs"))
	runningCall := startKubectl(running.json(), "create", "--raw", execPath(ns, "interrupted"), "-f", "-")
	waitFor(t, time.Minute, "the step to start", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "exec", "-n", ns, pod, "-c", "executor", "--", "cat", "/workspace/runs")
		return r.err == nil && r.stdout == "run\n", r.String()
	})
	queuedCall := startKubectl(queued.json(), "create", "--raw", execPath(ns, "queued"), "-f", "-")
	waitFor(t, time.Minute, "the second Task to queue", func() (bool, string) {
		var got taskObj
		err := getInto(&got, "task", "queued", "-n", ns)
		return err == nil && got.Status.State == "Pending", fmt.Sprint(err)
	})

	restartARL(t, ns)

	r := runningCall.wait()
	var answered taskObj
	if r.err != nil || json.Unmarshal([]byte(r.stdout), &answered) != nil || answered.Status.State != "Failed" || answered.reason() != "RunnerLost" {
		t.Errorf("the exec client of the interrupted Task must get it, Failed with reason RunnerLost: %s", r)
	}
	task := waitTask(t, ns, "interrupted", "Failed")
	if task.reason() != "RunnerLost" {
		t.Errorf("want reason RunnerLost: %s", task)
	}
	if r := queuedCall.wait(); r.err == nil || !strings.Contains(r.stderr, "ServiceUnavailable") {
		t.Errorf("the exec client of the queued Task must be told to ask again: %s", r)
	}
	if again := execTask(t, ns, queued); again.Status.State != "Succeeded" {
		t.Errorf("the queued Task, asked again: %s", again)
	}
	runs := execTask(t, ns, newTask("runs", "sb", command("cat", "cat", "/workspace/runs")))
	if runs.Status.State != "Succeeded" || runs.Status.Stdout != "run\nqueued\n" {
		t.Errorf("each Task must run once, the interrupted one never again: %s", runs)
	}
}

// TestHostModeSubresources: a background step reports its PID; the
// processes, signal and reset subresources reach it through kube-apiserver.
func TestHostModeSubresources(t *testing.T) {
	ns := taskEnv(t, "hostmode", 1, "my-workspace")
	bg := command("server", "sleep", "1000")
	bg["background"] = true
	task := execTask(t, ns, newTask("background", "my-workspace", bg, command("after", "echo", "moved on")))
	mustState(t, task, "Succeeded")
	pid := task.Status.Steps[0].PID
	if pid == 0 || task.Status.Stdout != "moved on\n" {
		t.Fatalf("background step: %s", task)
	}
	base := arlBase + ns + "/sandboxes/my-workspace/"
	out := kubectl(t, "get", "--raw", base+"processes")
	if !strings.Contains(out, `"command":["sleep","1000"]`) || !strings.Contains(out, `"state":"Running"`) || !strings.Contains(out, `"kind":"SandboxProcessList"`) {
		t.Errorf("processes: %s", out)
	}
	out = kubectlIn(t, fmt.Sprintf(`{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxSignal","pid":%d,"signal":"SIGTERM"}`, pid), "create", "--raw", base+"signal", "-f", "-")
	if !strings.Contains(out, `"signal":"SIGTERM"`) {
		t.Errorf("signal: %s", out)
	}
	waitFor(t, 30*time.Second, "the signalled process exited", func() (bool, string) {
		out := kubectl(t, "get", "--raw", base+"processes")
		return regexp.MustCompile(fmt.Sprintf(`"pid":%d,[^}]*"state":"Exited"`, pid)).MatchString(out), out
	})
	r := runKubectl(kubeconfig, `{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxSignal","pid":99999,"signal":"SIGTERM"}`, "create", "--raw", base+"signal", "-f", "-")
	if r.err == nil || !strings.Contains(r.stderr, "NotFound") {
		t.Errorf("signal to an unknown pid: %s", r)
	}

	execTask(t, ns, newTask("litter", "my-workspace", filePatch("f", "junk.txt", "x"), bash("bg", "sleep 500 & sleep 600 & echo started")))
	out = kubectlIn(t, `{"apiVersion":"arl.infra.io/v1alpha1","kind":"SandboxReset"}`, "create", "--raw", base+"reset", "-f", "-")
	if !strings.Contains(out, "junk.txt") {
		t.Errorf("reset: %s", out)
	}
	after := execTask(t, ns, newTask("after-reset", "my-workspace", bash("check", "ls -A /workspace; pgrep -fc 'sleep [56]00' || true")))
	if after.Status.Stdout != "0\n" {
		t.Errorf("after a reset the workspace and the processes must be gone: %s", after)
	}
}

// TestLogFromEveryReplica: kube-apiserver sends each request to any
// arl-apiserver replica, and only the one running a Task holds its output.
// Several followers at once (each its own connection, so its own pick of
// replica) all stream the running Task's lines as they are printed, and
// all read its exact bytes (?raw=true) once it finished.
func TestLogFromEveryReplica(t *testing.T) {
	t.Parallel()
	ns := taskEnv(t, "log-any", 1, "sb")
	task := newTask("paced", "sb", bash("pace", "echo first; sleep 8; echo second"))
	kubectlIn(t, task.json(), "create", "-n", ns, "-f", "-")
	waitFor(t, time.Minute, "the Task to run", func() (bool, string) {
		var got taskObj
		err := getInto(&got, "task", "paced", "-n", ns)
		return err == nil && got.Status.State == "Running", fmt.Sprint(err)
	})

	const followers = 6
	type followed struct {
		first, rest string
		running     bool
		err         error
	}
	results := make(chan followed, followers)
	for i := 0; i < followers; i++ {
		go func() {
			var f followed
			defer func() { results <- f }()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, kubectlBin, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir,
				"get", "--raw", arlBase+ns+"/tasks/paced/log?follow=true")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				f.err = err
				return
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if f.err = cmd.Start(); f.err != nil {
				return
			}
			reader := bufio.NewReader(stdout)
			f.first, _ = reader.ReadString('\n')
			var got taskObj
			f.running = getInto(&got, "task", "paced", "-n", ns) == nil && got.Status.State == "Running"
			rest, _ := io.ReadAll(reader)
			f.rest = string(rest)
			if err := cmd.Wait(); err != nil {
				f.err = fmt.Errorf("%w: %s", err, stderr.String())
			}
		}()
	}
	for i := 0; i < followers; i++ {
		f := <-results
		if f.err != nil || f.first != "first\n" || f.rest != "second\n" || !f.running {
			t.Errorf("follower %d: first line %q (Task still Running when it came: %v), then %q, err %v", i, f.first, f.running, f.rest, f.err)
		}
	}

	waitFor(t, time.Minute, "the Task to finish", func() (bool, string) {
		var got taskObj
		err := getInto(&got, "task", "paced", "-n", ns)
		return err == nil && got.Status.State == "Succeeded", fmt.Sprint(err)
	})
	for i := 0; i < followers; i++ {
		if got := kubectl(t, "get", "--raw", arlBase+ns+"/tasks/paced/log?raw=true"); got != "first\nsecond\n" {
			t.Errorf("raw log, read %d: %q", i, got)
		}
	}
}

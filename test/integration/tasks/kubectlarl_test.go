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
	cryptorand "crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
	"github.com/arl-infra/arl/test/integration/framework"
)

// kubectlARL runs the plugin with the server's kubeconfig.
func (e *env) kubectlARL(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	bin, err := framework.Binary("kubectl-arl")
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.CommandContext(e.ctx, bin, append([]string{"--kubeconfig", e.server.Kubeconfig, "-n", ns}, args...)...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		e.t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestKubectlARLExecAndRun: exec and run print the command's streams and
// exit with its code.
func TestKubectlARLExecAndRun(t *testing.T) {
	e := newEnv(t, 1, "ws")
	if out, errOut, code := e.kubectlARL("exec", "ws", "--", "sh", "-c", "echo out; echo err >&2; exit 3"); out != "out\n" || errOut != "err\n" || code != 3 {
		t.Errorf("exec: stdout %q, stderr %q, code %d; want out, err, 3", out, errOut, code)
	}
	if out, errOut, code := e.kubectlARL("run", "ws", "--", "sh", "-c", "echo ran; exit 4"); out != "ran\n" || code != 4 {
		t.Errorf("run: stdout %q, stderr %q, code %d; want ran, 4", out, errOut, code)
	}
	if _, errOut, code := e.kubectlARL("exec", "missing", "--", "true"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("exec in a missing sandbox: code %d, stderr %q; want 1 and not found", code, errOut)
	}
}

// tmux drives a real terminal: a tmux server of the test's own.
type tmux struct {
	t      *testing.T
	socket string
}

func (m *tmux) run(args ...string) string {
	m.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", m.socket}, args...)...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (m *tmux) screen() string { return m.run("capture-pane", "-p", "-t", "arl") }

// TestKubectlARLShellInATerminal: `kubectl arl shell` from a real terminal
// (tmux): the sandbox's terminal has this one's size and follows its
// resize, Ctrl-C reaches the foreground process, exit 7 is the plugin's.
func TestKubectlARLShellInATerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is needed to drive a terminal (hack/test.sh installs it)")
	}
	e := newEnv(t, 1, "ws")
	bin, err := framework.Binary("kubectl-arl")
	if err != nil {
		t.Fatal(err)
	}
	m := &tmux{t: t, socket: t.TempDir() + "/tmux.sock"}
	m.run("new-session", "-d", "-s", "arl", "-x", "100", "-y", "30",
		fmt.Sprintf("%s --kubeconfig %s -n %s shell ws; echo plugin-exit-$?; sleep 600", bin, e.server.Kubeconfig, ns))
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", m.socket, "kill-server").Run() })
	see := func(what, want string) {
		t.Helper()
		framework.Eventually(t, 30*time.Second, what, func() bool { return strings.Contains(m.screen(), want) })
	}
	typeLine := func(keys ...string) { m.run(append([]string{"send-keys", "-t", "arl"}, keys...)...) }

	// Typed before the shell is up, a line may be lost (the plugin starts
	// slowly on a loaded machine): ask until it answers.
	polls := 0
	framework.Eventually(t, 30*time.Second, "the terminal's size in the sandbox", func() bool {
		if strings.Contains(m.screen(), "30 100") {
			return true
		}
		if polls%10 == 0 { // every half second
			typeLine("stty size", "Enter")
		}
		polls++
		return false
	})
	m.run("resize-window", "-t", "arl", "-x", "120", "-y", "40")
	// The resize travels apart from the input: ask until it arrived.
	framework.Eventually(t, 30*time.Second, "the size after a resize", func() bool {
		typeLine("stty size", "Enter")
		time.Sleep(100 * time.Millisecond)
		return strings.Contains(m.screen(), "40 120")
	})

	typeLine("echo sleep-started; sleep 100; echo slept", "Enter")
	framework.Eventually(t, 30*time.Second, "sleep started", func() bool {
		return regexp.MustCompile(`(?m)^sleep-started\s*$`).MatchString(m.screen())
	})
	typeLine("C-c")
	typeLine("echo interrupted-$?", "Enter")
	see("Ctrl-C ending sleep", "interrupted-130")

	typeLine("exit 7", "Enter")
	see("the plugin exiting with the shell's code", "plugin-exit-7")
}

// startKubectlARL starts the plugin in the background; the caller waits for it.
func (e *env) startKubectlARL(args ...string) (*exec.Cmd, *framework.SyncBuffer, *framework.SyncBuffer) {
	e.t.Helper()
	bin, err := framework.Binary("kubectl-arl")
	if err != nil {
		e.t.Fatal(err)
	}
	cmd := exec.CommandContext(e.ctx, bin, append([]string{"--kubeconfig", e.server.Kubeconfig, "-n", ns}, args...)...)
	stdout, stderr := &framework.SyncBuffer{}, &framework.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, stdout, stderr
}

// TestKubectlARLLogs: `logs -f` prints a Task's lines as it prints them and
// ends with it; an unknown Task is the API's 404.
func TestKubectlARLLogs(t *testing.T) {
	e := newEnv(t, 1, "ws")
	// line-1 at once, the rest over a second once the file `go` exists: the
	// follower is known to be attached before most of the output exists.
	task := newTask("printer", "ws", bash("print",
		`echo line-1; while [ ! -e go ]; do sleep 0.05; done; for i in 2 3 4 5; do sleep 0.25; echo line-$i; done; sleep 0.1; echo err-line >&2`))
	if _, err := e.arl.Tasks(ns).Create(e.ctx, task, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cmd, stdout, stderr := e.startKubectlARL("logs", "-f", "printer")
	framework.WaitForOutput(t, stdout, "line-1\n", time.Minute)
	if strings.Contains(stdout.String(), "line-2") {
		t.Fatalf("line-2 before the Task was let go on: %q", stdout.String())
	}
	// Ctrl-C ends a follower, with a shell's code for it.
	interrupted, interruptedOut, _ := e.startKubectlARL("logs", "-f", "printer")
	framework.WaitForOutput(t, interruptedOut, "line-1\n", time.Minute)
	if err := interrupted.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := interrupted.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Errorf("logs -f after Ctrl-C: %v, want exit code 130", err)
	}
	e.release("ws")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("logs -f: %v\nstderr: %s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("logs -f did not end with the Task; it printed %q", stdout.String())
	}
	if want := "line-1\nline-2\nline-3\nline-4\nline-5\nerr-line\n"; stdout.String() != want {
		t.Errorf("logs -f printed %q, want %q", stdout.String(), want)
	}
	if task := e.waitTask("printer"); task.Status.State != arlv1alpha1.TaskSucceeded {
		t.Errorf("the Task %s", task.Status.State)
	}
	// Without -f, a finished Task's log is its status: stdout, then stderr.
	if out, errOut, code := e.kubectlARL("logs", "printer"); code != 0 || out != "line-1\nline-2\nline-3\nline-4\nline-5\nerr-line\n" {
		t.Errorf("logs of the finished Task: %q, stderr %q, code %d", out, errOut, code)
	}

	if out, errOut, code := e.kubectlARL("logs", "no-such-task"); code != 1 || out != "" ||
		!strings.HasPrefix(errOut, "error: ") || !strings.Contains(errOut, `"no-such-task" not found`) {
		t.Errorf("logs of an unknown Task: stdout %q, stderr %q, code %d; want the API's not found and 1", out, errOut, code)
	}
}

// processRow finds pid's row in `kubectl arl ps`'s table: its columns.
func processRow(table string, pid int32) []string {
	for _, line := range strings.Split(table, "\n") {
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == itoa(pid) {
			return fields
		}
	}
	return nil
}

// startTagged starts a background command with a tag, straight through the
// sandbox's agent: no API sets tags, and `kill --tag` needs one.
func (e *env) startTagged(sandbox, tag string, argv ...string) int32 {
	e.t.Helper()
	socket := filepath.Join(e.server.DataDir, "pods", ns, sandboxPod(e, sandbox), "run", "agent.sock")
	agent, err := client.Dial(e.ctx, client.Target{Address: socket})
	if err != nil {
		e.t.Fatal(err)
	}
	defer agent.Close()
	started, err := agent.Exec(e.ctx, &agentv1.ExecRequest{Command: argv, Background: true, Tag: tag}, nil)
	if err != nil {
		e.t.Fatalf("starting %v tagged %s: %v", argv, tag, err)
	}
	return started.Pid
}

// TestKubectlARLProcesses: ps lists a background process started through
// the API, kill signals one by PID and one by tag, reset kills the rest.
func TestKubectlARLProcesses(t *testing.T) {
	e := newEnv(t, 1, "ws")
	bg := command("server", "sleep", "1000")
	bg.Background = true
	task := e.exec(newTask("background", "ws", bg))
	mustState(t, task, arlv1alpha1.TaskSucceeded)
	pid := task.Status.Steps[0].PID

	out, errOut, code := e.kubectlARL("ps", "ws")
	if code != 0 || !strings.HasPrefix(out, "PID ") || !regexp.MustCompile(`(?m)^PID\s+TAG\s+STATE\s+EXIT\s+AGE\s+COMMAND$`).MatchString(out) {
		t.Fatalf("ps: %q, stderr %q, code %d", out, errOut, code)
	}
	t.Logf("kubectl arl ps ws:\n%s", out)
	if row := processRow(out, pid); len(row) != 7 || row[1] != "<none>" || row[2] != "Running" || row[3] != "-" || row[5] != "sleep" || row[6] != "1000" {
		t.Errorf("ps: the row of %d is %q, want it Running, untagged, sleep 1000\n%s", pid, row, out)
	}
	out, _, code = e.kubectlARL("ps", "ws", "-o", "json")
	var list arlv1alpha1.SandboxProcessList
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || list.Kind != "SandboxProcessList" || len(list.Items) == 0 || list.Items[0].PID != pid {
		t.Errorf("ps -o json: code %d, %v: %s", code, err, out)
	}
	if out, _, code := e.kubectlARL("ps", "ws", "-o", "yaml"); code != 0 || !strings.Contains(out, "kind: SandboxProcessList") {
		t.Errorf("ps -o yaml: code %d: %s", code, out)
	}

	// By PID: SIGTERM, the default, to its process group.
	out, errOut, code = e.kubectlARL("kill", "ws", itoa(pid))
	if want := fmt.Sprintf("SIGTERM sent to the process group of %d in sandbox ws\n", pid); code != 0 || out != want {
		t.Errorf("kill by pid: %q, stderr %q, code %d; want %q", out, errOut, code, want)
	}
	framework.Eventually(t, 30*time.Second, "the killed process shown Exited by SIGTERM", func() bool {
		out, _, _ := e.kubectlARL("ps", "ws")
		row := processRow(out, pid)
		return len(row) == 7 && row[2] == "Exited" && strings.Contains(row[3], "SIGTERM")
	})

	// By tag, with a signal by number, to the process alone.
	tagged := e.startTagged("ws", "web", "sleep", "1001")
	out, _, _ = e.kubectlARL("ps", "ws")
	if row := processRow(out, tagged); len(row) != 7 || row[1] != "web" || row[2] != "Running" {
		t.Errorf("ps: the tagged process's row is %q\n%s", row, out)
	}
	out, errOut, code = e.kubectlARL("kill", "ws", "--tag", "web", "-s", "9", "--process-only")
	if want := fmt.Sprintf("SIGKILL sent to process %d (tag web) in sandbox ws\n", tagged); code != 0 || out != want {
		t.Errorf("kill by tag: %q, stderr %q, code %d; want %q", out, errOut, code, want)
	}
	framework.Eventually(t, 30*time.Second, "the tagged process shown Exited by SIGKILL", func() bool {
		out, _, _ := e.kubectlARL("ps", "ws")
		row := processRow(out, tagged)
		return len(row) == 7 && row[2] == "Exited" && strings.Contains(row[3], "SIGKILL")
	})

	// Refusals: the API's message (or the plugin's, for bad arguments), exit 1.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"kill", "ws", "99999"}, "99999"},
		{[]string{"kill", "ws", "--tag", "nobody"}, `"nobody"`},
		{[]string{"kill", "ws", itoa(pid), "-s", "SIGNOPE"}, "signal"},
		{[]string{"kill", "ws"}, "PID or --tag"},
		{[]string{"kill", "ws", "1", "--tag", "web"}, "not both"},
		{[]string{"ps", "missing"}, `"missing" not found`},
		{[]string{"ps", "ws", "-o", "wide"}, "json or yaml"},
	} {
		out, errOut, code := e.kubectlARL(c.args...)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, "error: ") || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: stdout %q, stderr %q, code %d; want exit 1 and an error naming %s", c.args, out, errOut, code, c.want)
		}
		t.Logf("%v: %s", c.args[:2], strings.TrimSpace(errOut))
	}

	// reset kills what runs and empties the workspace.
	e.exec(newTask("litter", "ws", filePatch("f", "junk.txt", "x"), bash("bg", "sleep 500 & echo started")))
	bg = command("server", "sleep", "1002")
	bg.Background = true
	task = e.exec(newTask("background-2", "ws", bg))
	mustState(t, task, arlv1alpha1.TaskSucceeded)
	again := task.Status.Steps[0].PID
	out, errOut, code = e.kubectlARL("reset", "ws")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("killed process %d: sleep 1002\n", again)) || !strings.Contains(out, "removed junk.txt\n") ||
		!regexp.MustCompile(`(?m)^sandbox ws reset: \d+ processes killed, \d+ workspace entries removed$`).MatchString(out) {
		t.Errorf("reset: %q, stderr %q, code %d", out, errOut, code)
	}
	if out, errOut, code := e.kubectlARL("ps", "ws"); code != 0 || out != "" || errOut != "No processes in sandbox ws.\n" {
		t.Errorf("ps after reset: %q, stderr %q, code %d; want no processes", out, errOut, code)
	}
	if task := e.exec(newTask("after-reset", "ws", bash("check", "ls -A /workspace; pgrep -fc 'sleep (500|1002)' || true"))); task.Status.Stdout != "0\n" {
		t.Errorf("after reset the workspace and processes must be empty: %q", task.Status.Stdout)
	}
	if out, _, code := e.kubectlARL("reset", "ws", "--preserve-files"); code != 0 || !strings.Contains(out, "0 processes killed, 0 workspace entries removed") {
		t.Errorf("reset --preserve-files of an idle sandbox: %q, code %d", out, code)
	}
}

// copyTree is a local tree for `kubectl arl cp`: nested directories, an
// empty one, a script, 5 MiB of random bytes, a symbolic link.
func copyTree(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "src")
	random := make([]byte, 5<<20)
	if _, err := cryptorand.Read(random); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"run.sh":              []byte("#!/bin/sh\necho ran\n"),
		"data/random.bin":     random,
		"data/nested/deep.md": []byte("deep\n"),
		"notes.txt":           []byte("notes\n"),
	} {
		file := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{"empty", "data/private"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, mode := range map[string]os.FileMode{"run.sh": 0o755, "data/private": 0o700, "notes.txt": 0o600} {
		if err := os.Chmod(filepath.Join(root, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("nested/deep.md", filepath.Join(root, "data", "link")); err != nil {
		t.Fatal(err)
	}
	return root
}

// sameTree reports how got differs from want: entries, types, modes,
// contents and link targets.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	describe := func(root string) map[string]string {
		entries := map[string]string{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == root {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			what := info.Mode().String()
			switch {
			case info.Mode().IsRegular():
				content, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				what += fmt.Sprintf(" sha256:%x", sha256.Sum256(content))
			case info.Mode()&fs.ModeSymlink != 0:
				target, err := os.Readlink(p)
				if err != nil {
					return err
				}
				what += " -> " + target
			}
			entries[rel] = what
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return entries
	}
	wantEntries, gotEntries := describe(want), describe(got)
	for name, w := range wantEntries {
		if g := gotEntries[name]; g != w {
			t.Errorf("%s: %q, want %q", name, g, w)
		}
	}
	for name, g := range gotEntries {
		if _, ok := wantEntries[name]; !ok {
			t.Errorf("%s: %q, not in the source", name, g)
		}
	}
}

// TestKubectlARLCopy: `cp` of a tree up into a sandbox and back down keeps
// contents, modes and links; a single file lands as kubectl cp's would.
func TestKubectlARLCopy(t *testing.T) {
	e := newEnv(t, 1, "ws")
	src := copyTree(t)

	if out, errOut, code := e.kubectlARL("cp", src, "ws:/workspace/dst"); code != 0 || out != "" || errOut != "" {
		t.Fatalf("cp up: stdout %q, stderr %q, code %d", out, errOut, code)
	}
	// In the sandbox: dst holds src's contents.
	listing := e.exec(newTask("listing", "ws", bash("ls", `cd /workspace/dst && find . | sort && stat -c '%a %n' run.sh data/private && ./run.sh && readlink data/link && sha256sum data/random.bin`)))
	random, err := os.ReadFile(filepath.Join(src, "data", "random.bin"))
	if err != nil {
		t.Fatal(err)
	}
	wantListing := ".\n./data\n./data/link\n./data/nested\n./data/nested/deep.md\n./data/private\n./data/random.bin\n./empty\n./notes.txt\n./run.sh\n" +
		"755 run.sh\n700 data/private\nran\nnested/deep.md\n" + fmt.Sprintf("%x  data/random.bin\n", sha256.Sum256(random))
	if listing.Status.Stdout != wantListing {
		t.Errorf("the tree in the sandbox:\n%s\nstderr: %s\nwant:\n%s", listing.Status.Stdout, listing.Status.Stderr, wantListing)
	}

	back := filepath.Join(t.TempDir(), "back")
	if out, errOut, code := e.kubectlARL("cp", "ws:/workspace/dst", back); code != 0 || out != "" || errOut != "" {
		t.Fatalf("cp down: stdout %q, stderr %q, code %d", out, errOut, code)
	}
	sameTree(t, src, back)

	// One file: DEST names it, or it keeps its name in a directory.
	if _, errOut, code := e.kubectlARL("cp", filepath.Join(src, "run.sh"), "ws:/workspace/single/renamed.sh"); code != 0 {
		t.Fatalf("cp a file up: %s", errOut)
	}
	if _, errOut, code := e.kubectlARL("cp", filepath.Join(src, "notes.txt"), "ws:/workspace/single"); code != 0 {
		t.Fatalf("cp a file up into a directory: %s", errOut)
	}
	if _, errOut, code := e.kubectlARL("cp", filepath.Join(src, "notes.txt"), "ws:top.txt"); code != 0 {
		t.Fatalf("cp a file up to a path relative to the workspace: %s", errOut)
	}
	if out := e.exec(newTask("single", "ws", bash("ls", "cat /workspace/top.txt && cd /workspace/single && stat -c '%a %n' * && ./renamed.sh"))).Status.Stdout; out != "notes\n600 notes.txt\n755 renamed.sh\nran\n" {
		t.Errorf("files copied up one by one: %q", out)
	}
	local := t.TempDir()
	if _, errOut, code := e.kubectlARL("cp", "ws:/workspace/single/renamed.sh", filepath.Join(local, "got.sh")); code != 0 {
		t.Fatalf("cp a file down: %s", errOut)
	}
	if _, errOut, code := e.kubectlARL("cp", "ws:single/notes.txt", local); code != 0 {
		t.Fatalf("cp a file down into a directory: %s", errOut)
	}
	for name, want := range map[string]struct {
		content string
		mode    os.FileMode
	}{"got.sh": {"#!/bin/sh\necho ran\n", 0o755}, "notes.txt": {"notes\n", 0o600}} {
		content, err := os.ReadFile(filepath.Join(local, name))
		info, statErr := os.Stat(filepath.Join(local, name))
		if err != nil || statErr != nil || string(content) != want.content || info.Mode().Perm() != want.mode {
			t.Errorf("%s copied down: %q %v %v, want %q %v", name, content, info, err, want.content, want.mode)
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"cp", src, "missing:/workspace/x"}, `"missing" not found`},
		{[]string{"cp", "ws:/workspace/nothing-here", local}, "nothing-here"},
		{[]string{"cp", "ws:/workspace/../etc", local}, ".."},
		{[]string{"cp", src, local}, "SANDBOX:PATH"},
		{[]string{"cp", "ws:", local}, "empty"},
	} {
		out, errOut, code := e.kubectlARL(c.args...)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, "error: ") || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: stdout %q, stderr %q, code %d; want exit 1 and an error naming %s", c.args, out, errOut, code, c.want)
		}
		t.Logf("%v: %s", c.args[:2], strings.TrimSpace(errOut))
	}
}

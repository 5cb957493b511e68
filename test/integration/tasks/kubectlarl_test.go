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
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

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

	typeLine("stty size", "Enter")
	see("the terminal's size in the sandbox", "30 100")
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

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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlscheme "github.com/arl-infra/arl/pkg/generated/clientset/versioned/scheme"
	"github.com/arl-infra/arl/test/integration/framework"
)

// sandboxExec opens sandboxes/{name}/exec with client-go's WebSocket
// executor, as kubectl exec does for pods.
func (e *env) sandboxExec(sandbox string, opts *arlv1alpha1.SandboxExecOptions, streams remotecommand.StreamOptions) error {
	e.t.Helper()
	url := e.rest.Get().Namespace(ns).Resource("sandboxes").Name(sandbox).SubResource("exec").
		VersionedParams(opts, arlscheme.ParameterCodec).URL()
	executor, err := remotecommand.NewWebSocketExecutor(e.server.RESTConfig(), "GET", url.String())
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Minute)
	defer cancel()
	return executor.StreamWithContext(ctx, streams)
}

func exitStatus(err error) int {
	var code exec.CodeExitError
	if errors.As(err, &code) {
		return code.Code
	}
	return -1
}

// TestSandboxExecCommand: a command without a terminal streams stdout and
// stderr apart, reads stdin to its end, and its exit code reaches the
// caller; no Task is stored.
func TestSandboxExecCommand(t *testing.T) {
	e := newEnv(t, 1, "ws")
	var stdout, stderr bytes.Buffer
	err := e.sandboxExec("ws", &arlv1alpha1.SandboxExecOptions{Command: []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, Stdout: true, Stderr: true},
		remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	if exitStatus(err) != 7 || stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("exit 7: err %v (code %d), stdout %q, stderr %q; want code 7, out, err", err, exitStatus(err), stdout.String(), stderr.String())
	}

	stdout.Reset()
	input := strings.Repeat("0123456789", 100000) // 1 MB
	err = e.sandboxExec("ws", &arlv1alpha1.SandboxExecOptions{Command: []string{"sh", "-c", "wc -c; cat >/dev/null"}, Stdin: true, Stdout: true},
		remotecommand.StreamOptions{Stdin: strings.NewReader(input), Stdout: &stdout})
	if err != nil || strings.TrimSpace(stdout.String()) != "1000000" {
		t.Errorf("stdin of 1 MB: err %v, stdout %q, want 1000000", err, stdout.String())
	}

	tasks, err := e.arl.Tasks(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil || len(tasks.Items) != 0 {
		t.Errorf("exec stored Tasks: %v %v", err, tasks)
	}
}

// TestSandboxExecConcurrent: 200 commands at once in one sandbox, each
// with its own exact output.
func TestSandboxExecConcurrent(t *testing.T) {
	e := newEnv(t, 1, "ws")
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var stdout, stderr bytes.Buffer
			err := e.sandboxExec("ws", &arlv1alpha1.SandboxExecOptions{Command: []string{"sh", "-c", fmt.Sprintf("echo out-%d; echo err-%d >&2", i, i)}, Stdout: true, Stderr: true},
				remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
			if err != nil || stdout.String() != fmt.Sprintf("out-%d\n", i) || stderr.String() != fmt.Sprintf("err-%d\n", i) {
				errs <- fmt.Errorf("exec %d: err %w, stdout %q, stderr %q", i, err, stdout.String(), stderr.String())
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// terminal is the caller's side of a PTY session: what it types, the
// sizes it sends and what it has seen.
type terminal struct {
	in    *io.PipeWriter
	sizes chan *remotecommand.TerminalSize
	mu    sync.Mutex
	seen  bytes.Buffer
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen.Write(p)
}

func (t *terminal) Next() *remotecommand.TerminalSize { return <-t.sizes }

func (t *terminal) output() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seen.String()
}

// lineRE matches an output line, not the terminal's echo of the command
// that printed it.
func lineRE(line string) *regexp.Regexp { return regexp.MustCompile(`(?m)^` + line + `\r?$`) }

func waitForLine(t *testing.T, term *terminal, line string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, "the line "+line, func() bool { return lineRE(line).MatchString(term.output()) })
}

// TestSandboxExecTerminal: a shell on a PTY sees its resizes, Ctrl-C
// reaches its foreground process, and `exit 7` is the session's exit code.
func TestSandboxExecTerminal(t *testing.T) {
	e := newEnv(t, 1, "ws")
	stdin, in := io.Pipe()
	term := &terminal{in: in, sizes: make(chan *remotecommand.TerminalSize, 4)}
	term.sizes <- &remotecommand.TerminalSize{Width: 100, Height: 40}
	done := make(chan error, 1)
	go func() {
		err := e.sandboxExec("ws", &arlv1alpha1.SandboxExecOptions{Command: []string{"sh"}, Stdin: true, Stdout: true, TTY: true},
			remotecommand.StreamOptions{Stdin: stdin, Stdout: term, Tty: true, TerminalSizeQueue: term})
		stdin.CloseWithError(fmt.Errorf("the session ended: %w", err)) // typing fails from now on
		done <- err
	}()
	typeLine := func(s string) {
		if _, err := io.WriteString(in, s); err != nil {
			t.Fatalf("typing %q: %v\n%s", s, err, term.output())
		}
	}
	waitFor := func(what, want string) {
		framework.Eventually(t, 30*time.Second, what, func() bool { return strings.Contains(term.output(), want) })
	}
	typeLine("stty size; echo sized\n")
	waitFor("the first size", "40 100")
	term.sizes <- &remotecommand.TerminalSize{Width: 132, Height: 50}
	// The resize travels apart from the input: ask until it arrived.
	framework.Eventually(t, 30*time.Second, "the size after a resize", func() bool {
		typeLine("stty size\n")
		time.Sleep(100 * time.Millisecond)
		return strings.Contains(term.output(), "50 132")
	})

	typeLine("echo sleep-started; sleep 100; echo slept\n")
	waitForLine(t, term, "sleep-started")
	typeLine("\x03")
	typeLine("echo interrupted-$?\n")
	waitFor("Ctrl-C ending sleep", "interrupted-130")
	if lineRE("slept").MatchString(term.output()) {
		t.Error("sleep ran to its end: Ctrl-C did not reach it")
	}

	typeLine("exit 7\n")
	select {
	case err := <-done:
		if exitStatus(err) != 7 {
			t.Errorf("exit 7 on a terminal: %v (code %d)\n%s", err, exitStatus(err), term.output())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the session did not end after exit 7:\n%s", term.output())
	}
}

// TestSandboxExecRefusals: what can be refused is refused before the
// upgrade, as API errors with field paths.
func TestSandboxExecRefusals(t *testing.T) {
	e := newEnv(t, 1, "ws")
	get := func(sandbox string, opts *arlv1alpha1.SandboxExecOptions) error {
		return e.rest.Get().Namespace(ns).Resource("sandboxes").Name(sandbox).SubResource("exec").
			VersionedParams(opts, arlscheme.ParameterCodec).Do(e.ctx).Error()
	}
	echo := []string{"echo", "hi"}
	if err := get("missing", &arlv1alpha1.SandboxExecOptions{Command: echo, Stdout: true}); !apierrors.IsNotFound(err) {
		t.Errorf("unknown Sandbox: %v, want 404", err)
	}
	for _, tc := range []struct {
		opts  *arlv1alpha1.SandboxExecOptions
		field string
	}{
		{&arlv1alpha1.SandboxExecOptions{Stdout: true}, "command"},
		{&arlv1alpha1.SandboxExecOptions{Command: echo}, "stdout"},
		{&arlv1alpha1.SandboxExecOptions{Command: echo, Stdout: true, Stderr: true, TTY: true}, "stderr"},
		{&arlv1alpha1.SandboxExecOptions{Command: []string{" "}, Stdout: true}, "command[0]"},
	} {
		err := get("ws", tc.opts)
		if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("exec %+v: %v, want 422 naming %s", tc.opts, err, tc.field)
		}
	}
}

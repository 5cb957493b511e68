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

package agent_test

import (
	"bytes"
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// terminal reads a shell's output in the background.
type terminal struct {
	t      *testing.T
	stream agentv1.AgentService_InteractiveShellClient
	mu     sync.Mutex
	out    bytes.Buffer
	pid    int32
	last   *agentv1.ShellOutput
	closed chan struct{}
}

func openShell(t *testing.T, ta *testAgent, start *agentv1.ShellStart) *terminal {
	t.Helper()
	callCtx, cancel := context.WithCancel(ctx(t))
	t.Cleanup(cancel)
	stream, err := ta.Shell(callCtx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Start{Start: start}}); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, stream: stream, closed: make(chan struct{})}
	go func() {
		defer close(term.closed)
		for {
			m, err := stream.Recv()
			if err != nil {
				return
			}
			term.mu.Lock()
			term.out.Write(m.GetData())
			if m.GetPid() != 0 {
				term.pid = m.GetPid()
			}
			if m.GetClosed() {
				term.last = m
			}
			term.mu.Unlock()
		}
	}()
	return term
}

func (term *terminal) send(in *agentv1.ShellInput) {
	term.t.Helper()
	if err := term.stream.Send(in); err != nil {
		term.t.Fatal(err)
	}
}

func (term *terminal) typeLine(s string) {
	term.t.Helper()
	term.send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Data{Data: []byte(s + "\n")}})
}

// expect waits until the output (since the last match) matches re.
func (term *terminal) expect(re string) []string {
	term.t.Helper()
	rx := regexp.MustCompile(re)
	var groups []string
	if eventually(term.t, 5*time.Millisecond, func() bool {
		term.mu.Lock()
		defer term.mu.Unlock()
		b := term.out.Bytes()
		loc := rx.FindSubmatchIndex(b)
		if loc == nil {
			return false
		}
		for i := 0; i < len(loc); i += 2 {
			groups = append(groups, string(b[loc[i]:loc[i+1]]))
		}
		term.out.Next(loc[1])
		return true
	}) {
		return groups
	}
	term.mu.Lock()
	defer term.mu.Unlock()
	term.t.Fatalf("output never matched %q; got %q", re, term.out.String())
	return nil
}

func hasChild(t *testing.T, pid int, comm string) bool {
	procs, err := procutil.ListProcs()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range procutil.Descendants(procs, pid) {
		if p.Comm == comm {
			return true
		}
	}
	return false
}

func TestShellIsARealTerminal(t *testing.T) {
	ta := startAgent(t, nil)
	term := openShell(t, ta, &agentv1.ShellStart{Command: []string{"/bin/sh"}, Rows: 24, Cols: 80, Env: map[string]string{"PS1": "$ "}})

	term.typeLine("tty; stty size")
	term.expect(`/dev/pts/\d+\r?\n24 80\r?\n`)

	term.send(&agentv1.ShellInput{Resize: true, Rows: 40, Cols: 132})
	term.typeLine("stty size")
	term.expect(`40 132\r?\n`)

	// ^C reaches the foreground job (which then aborts the command line,
	// as in any terminal).
	term.typeLine("sleep 1000")
	// The shell's child sets the terminal's foreground group before it
	// execs: once "sleep" runs, it is the foreground job.
	if !eventually(t, 5*time.Millisecond, func() bool { return hasChild(t, int(term.pid), "sleep") }) {
		t.Fatal("sleep never started in the shell")
	}
	term.send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Signal{Signal: "SIGINT"}})
	term.typeLine("echo status=$?")
	term.expect(`status=130`)

	term.typeLine("exit 3")
	select {
	case <-term.closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the stream did not end after exit")
	}
	if term.pid == 0 {
		t.Error("no message carried the shell's pid")
	}
	if term.last == nil || term.last.GetExitCode() != 3 {
		t.Fatalf("last message %v, want closed with exit code 3", term.last)
	}
}

func TestShellHangsUpWhenTheCallerLeaves(t *testing.T) {
	ta := startAgent(t, nil)
	callCtx, cancel := context.WithCancel(ctx(t))
	stream, err := ta.Shell(callCtx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Start{Start: &agentv1.ShellStart{Command: []string{"sh", "-c", "trap '' HUP; sleep 1000"}}}}); err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil || first.GetPid() == 0 {
		t.Fatalf("first message %v %v", first, err)
	}
	cancel()
	waitDead(t, int(first.GetPid()))
}

func TestShellHalfCloseIsEndOfInput(t *testing.T) {
	ta := startAgent(t, nil)
	term := openShell(t, ta, &agentv1.ShellStart{Command: []string{"cat"}})
	term.send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Data{Data: []byte("line\n")}})
	term.expect("line")
	if err := term.stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-term.closed:
	case <-time.After(20 * time.Second):
		t.Fatal("cat did not see the end of input")
	}
	if term.last == nil || term.last.GetExitCode() != 0 {
		t.Fatalf("last %v", term.last)
	}
}

func TestShellCommandNotFound(t *testing.T) {
	ta := startAgent(t, nil)
	term := openShell(t, ta, &agentv1.ShellStart{Command: []string{"no-such-shell-arl"}})
	<-term.closed
	if term.last == nil || term.last.GetExitCode() != 127 {
		t.Fatalf("last %v, want exit 127", term.last)
	}
}

// What the kernel would refuse with a bare EINVAL is a bad request, not a
// program that cannot start.
func TestShellRejectsInvalidStarts(t *testing.T) {
	ta := startAgent(t, nil)
	for name, start := range map[string]*agentv1.ShellStart{
		"NUL in argv":     {Command: []string{"sh", "a\x00b"}},
		"bad env name":    {Command: []string{"sh"}, Env: map[string]string{"A=B": "c"}},
		"NUL in work dir": {Command: []string{"sh"}, WorkingDir: "a\x00b"},
		"NUL in term":     {Command: []string{"sh"}, Term: "xterm\x00"},
		"bad size":        {Command: []string{"sh"}, Rows: 0, Cols: 80},
		"huge size":       {Command: []string{"sh"}, Rows: 1 << 16, Cols: 80},
		// The request is checked before the program is looked for.
		"bad size, no such program": {Command: []string{"no-such-shell-arl"}, Rows: 16},
	} {
		t.Run(name, func(t *testing.T) {
			stream, err := ta.Shell(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			if err := stream.Send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Start{Start: start}}); err != nil {
				t.Fatal(err)
			}
			for err == nil {
				_, err = stream.Recv()
			}
			wantCode(t, err, codes.InvalidArgument)
		})
	}
}

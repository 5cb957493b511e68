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
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

func TestExecuteSeparatesStreamsAndReportsExit(t *testing.T) {
	ta := startAgent(t, nil)
	var events []string
	st, err := ta.Exec(ctx(t), cmd("sh", "-c", "echo out; echo err >&2; exit 3"), func(s client.Stream, b []byte) {
		events = append(events, s.String()+":"+string(b))
	})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Started || st.Pid <= 0 {
		t.Errorf("started=%v pid=%d, want a started process", st.Started, st.Pid)
	}
	if st.ExitCode != 3 || st.Signal != "" || st.TimedOut {
		t.Errorf("exit = %+v, want code 3", st)
	}
	joined := strings.Join(events, "|")
	if !strings.Contains(joined, "stdout:out\n") || !strings.Contains(joined, "stderr:err\n") {
		t.Errorf("events %q lack stdout:out and stderr:err", joined)
	}
}

func TestExecuteSendsStartedFirst(t *testing.T) {
	ta := startAgent(t, nil)
	stream, err := ta.API().Execute(ctx(t), cmd("echo", "x"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if first.GetStarted().GetPid() <= 0 {
		t.Fatalf("first message %v, want started with a pid", first)
	}
	var last *agentv1.ExecLog
	for {
		m, err := stream.Recv()
		if err != nil {
			break
		}
		last = m
	}
	if last.GetExit() == nil || last.GetExit().GetPid() != first.GetStarted().GetPid() {
		t.Fatalf("last message %v, want exit of pid %d", last, first.GetStarted().GetPid())
	}
}

func TestExecuteStartFailuresUseShellExitCodes(t *testing.T) {
	ta := startAgent(t, nil)
	notExec := filepath.Join(ta.workspace, "script")
	if err := os.WriteFile(notExec, []byte("echo hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  *agentv1.ExecRequest
		code int32
		msg  string
	}{
		{"not found", cmd("no-such-command-arl"), 127, "not found"},
		{"not executable", cmd(notExec), 126, "permission denied"},
		{"missing working dir", &agentv1.ExecRequest{Command: []string{"true"}, WorkingDir: "/no/such/dir"}, 125, "working directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := ta.run(t, tc.req)
			if res.ExitCode != tc.code || res.Started {
				t.Errorf("exit %d started=%v, want %d and not started", res.ExitCode, res.Started, tc.code)
			}
			if !strings.Contains(string(res.Stderr), tc.msg) {
				t.Errorf("stderr %q lacks %q", res.Stderr, tc.msg)
			}
		})
	}
}

func TestExecuteRejectsInvalidRequests(t *testing.T) {
	ta := startAgent(t, nil)
	for name, req := range map[string]*agentv1.ExecRequest{
		"empty command":    {},
		"NUL in argv":      {Command: []string{"echo", "a\x00b"}},
		"bad env name":     {Command: []string{"true"}, Env: map[string]string{"A=B": "c"}},
		"negative timeout": {Command: []string{"true"}, TimeoutSeconds: -1},
		"negative cap":     {Command: []string{"true"}, MaxOutputBytes: -1},
		"NUL in work dir":  {Command: []string{"true"}, WorkingDir: "a\x00b"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ta.Run(ctx(t), req)
			wantCode(t, err, codes.InvalidArgument)
		})
	}
}

// writeWorkspaceFile puts content in the workspace through UpdateFiles.
func writeWorkspaceFile(t *testing.T, ta *testAgent, name string, content []byte) {
	t.Helper()
	_, err := ta.UpdateFiles(ctx(t), &agentv1.FileRequest{Files: []*agentv1.File{{Path: name, Content: content}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestExecuteStreamsTenMiBOfBinaryOnBothStreams(t *testing.T) {
	ta := startAgent(t, nil)
	data := make([]byte, 10<<20)
	rand.New(rand.NewSource(1)).Read(data)
	writeWorkspaceFile(t, ta, "blob", data)
	chunks := 0
	var out, errb bytes.Buffer
	st, err := ta.Exec(ctx(t), cmd("sh", "-c", "cat blob; cat blob >&2"), func(s client.Stream, b []byte) {
		chunks++
		if s == client.Stdout {
			out.Write(b)
		} else {
			errb.Write(b)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.ExitCode != 0 || st.StdoutTruncated || st.StderrTruncated {
		t.Fatalf("exit %+v", st)
	}
	if !bytes.Equal(out.Bytes(), data) || !bytes.Equal(errb.Bytes(), data) {
		t.Fatalf("got %d/%d bytes, want both equal to the %d written", out.Len(), errb.Len(), len(data))
	}
	if chunks < 2*len(data)/(64<<10) {
		t.Errorf("%d chunks: output was not streamed in pieces", chunks)
	}
}

func TestExecuteOneMiBSingleLine(t *testing.T) {
	ta := startAgent(t, nil)
	line := bytes.Repeat([]byte("a"), 1<<20)
	writeWorkspaceFile(t, ta, "line", line)
	res := ta.run(t, &agentv1.ExecRequest{Command: []string{"cat", "line"}, TimeoutSeconds: 60})
	if res.TimedOut || res.ExitCode != 0 || !bytes.Equal(res.Stdout, line) {
		t.Fatalf("exit %+v, %d bytes; want the whole 1 MiB line unchanged", res.ExitStatus, len(res.Stdout))
	}
}

func TestExecuteOutputCapDropsWithoutStallingTheCommand(t *testing.T) {
	ta := startAgent(t, nil)
	// 20 MiB against a 1000-byte cap: a reader that stopped reading would
	// leave head blocked on a full pipe until the timeout.
	res := ta.run(t, &agentv1.ExecRequest{
		Command:        []string{"sh", "-c", "head -c 20971520 /dev/zero; echo done >&2"},
		MaxOutputBytes: 1000,
		TimeoutSeconds: 60,
	})
	if res.TimedOut || res.ExitCode != 0 {
		t.Fatalf("exit %+v: the command stalled or failed", res.ExitStatus)
	}
	if len(res.Stdout) != 1000 || !res.StdoutTruncated {
		t.Errorf("stdout %d bytes truncated=%v, want 1000 and truncated", len(res.Stdout), res.StdoutTruncated)
	}
	if string(res.Stderr) != "done\n" || res.StderrTruncated {
		t.Errorf("stderr %q truncated=%v, want done and whole", res.Stderr, res.StderrTruncated)
	}
}

func TestExecuteReturnsWhileABackgroundGrandchildHoldsStdout(t *testing.T) {
	ta := startAgent(t, nil)
	start := time.Now()
	res := ta.run(t, cmd("bash", "-c", "sleep 100 & echo started"))
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("returned after %v: it waited for the grandchild", took)
	}
	if string(res.Stdout) != "started\n" || res.ExitCode != 0 {
		t.Fatalf("got %q exit %d, want started and 0", res.Stdout, res.ExitCode)
	}
}

func TestExecuteKeepsTheStdoutTail(t *testing.T) {
	ta := startAgent(t, nil)
	// Many short runs: a read/wait race loses the tail now and then.
	for i := range 100 {
		res := ta.run(t, cmd("sh", "-c", "head -c 100000 /dev/zero; printf END"))
		if len(res.Stdout) != 100003 || !bytes.HasSuffix(res.Stdout, []byte("END")) {
			t.Fatalf("run %d: %d bytes ending %q, want 100003 ending END", i, len(res.Stdout), res.Stdout[max(0, len(res.Stdout)-3):])
		}
	}
}

func TestExecuteTimeoutKillsTheWholeGroup(t *testing.T) {
	ta := startAgent(t, nil)
	t.Run("SIGTERM is enough", func(t *testing.T) {
		res := ta.run(t, &agentv1.ExecRequest{
			Command:       []string{"sh", "-c", "sleep 1000 & echo $!; wait"},
			TimeoutMillis: 2000, // time enough for sh to start its child under any load
		})
		if !res.TimedOut || res.Signal != "SIGTERM" || res.ExitCode != 128+15 {
			t.Errorf("exit %+v, want timed out by SIGTERM (143)", res.ExitStatus)
		}
		waitDead(t, atoi(t, string(res.Stdout)))
	})
	t.Run("SIGKILL after the grace period", func(t *testing.T) {
		// The trap makes sh and the sleep it starts ignore SIGTERM.
		res := ta.run(t, &agentv1.ExecRequest{
			Command:         []string{"sh", "-c", "trap '' TERM; sleep 1000 & echo $!; wait"},
			TimeoutMillis:   2000, // time enough for sh to install its trap under any load
			KillGraceMillis: 300,
		})
		if !res.TimedOut || res.Signal != "SIGKILL" || res.ExitCode != 128+9 {
			t.Errorf("exit %+v, want timed out by SIGKILL (137)", res.ExitStatus)
		}
		waitDead(t, atoi(t, string(res.Stdout)))
	})
}

// A timeout or grace period past what a time.Duration holds in nanoseconds
// is as good as none; it used to wrap around, and 18446744073710 ms became
// a timeout of 0.45 ms that killed the command at once.
func TestExecuteHugeTimeoutNeverFires(t *testing.T) {
	ta := startAgent(t, nil)
	for _, ms := range []int64{18446744073710, 1<<63 - 1} {
		res := ta.run(t, &agentv1.ExecRequest{Command: []string{"sleep", "0.1"}, TimeoutMillis: ms, KillGraceMillis: ms})
		if res.TimedOut || res.ExitCode != 0 {
			t.Errorf("timeout_millis %d: exit %d, timed out %v; want a clean exit", ms, res.ExitCode, res.TimedOut)
		}
	}
}

func TestExecuteCancelledCallerKillsTheGroup(t *testing.T) {
	ta := startAgent(t, nil)
	callCtx, cancel := context.WithCancel(ctx(t))
	pids := make(chan string, 1)
	var started int32
	go func() {
		_, _ = ta.Exec(callCtx, cmd("sh", "-c", "sleep 1000 & echo $!; wait"), func(s client.Stream, b []byte) {
			pids <- string(b)
		})
	}()
	grandchild := atoi(t, <-pids)
	procs, err := ta.ListProcesses(ctx(t), &agentv1.ListProcessesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range procs.GetProcesses() {
		started = p.GetPid()
	}
	if started == 0 {
		t.Fatal("the running command is not listed")
	}
	cancel()
	waitDead(t, int(started))
	waitDead(t, grandchild)
}

func TestExecuteStdin(t *testing.T) {
	ta := startAgent(t, nil)
	res := ta.run(t, &agentv1.ExecRequest{Command: []string{"cat"}, Stdin: []byte("hello\x00world")})
	if string(res.Stdout) != "hello\x00world" {
		t.Errorf("cat echoed %q", res.Stdout)
	}
	// Unset stdin is /dev/null: cat must not wait for input.
	res = ta.run(t, &agentv1.ExecRequest{Command: []string{"cat"}, TimeoutSeconds: 30})
	if res.TimedOut || len(res.Stdout) != 0 {
		t.Errorf("cat without stdin: %+v %q", res.ExitStatus, res.Stdout)
	}
	// A command that does not read its stdin still ends.
	res = ta.run(t, &agentv1.ExecRequest{Command: []string{"true"}, Stdin: bytes.Repeat([]byte("x"), 1<<20), TimeoutSeconds: 30})
	if res.TimedOut || res.ExitCode != 0 {
		t.Errorf("true with unread stdin: %+v", res.ExitStatus)
	}
}

func TestExecuteEnvironmentDoesNotLeakAgentCredentials(t *testing.T) {
	ta := startAgent(t, func(c *agent.Config) {
		c.Env = []string{"PATH=/usr/bin:/bin", "HOME=/root", "ARL_CLIENT_TOKEN=secret1", "CLOUD_SECRET=secret2", "AWS_KEY=secret3"}
		c.ScrubEnv = []string{"CLOUD_SECRET", "AWS_*"}
	})
	res := ta.run(t, &agentv1.ExecRequest{Command: []string{"env"}, Env: map[string]string{"APP_ENV": "prod", "HOME": "/home/app"}})
	env := string(res.Stdout)
	if strings.Contains(env, "secret") {
		t.Errorf("the command saw the agent's credentials:\n%s", env)
	}
	for _, want := range []string{"APP_ENV=prod", "HOME=/home/app", "PATH=/usr/bin:/bin"} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("env lacks %s:\n%s", want, env)
		}
	}
	if strings.Contains(env, "HOME=/root") {
		t.Errorf("the request's HOME did not override the agent's:\n%s", env)
	}
}

func TestExecuteWorkingDirectory(t *testing.T) {
	ta := startAgent(t, nil)
	if err := os.Mkdir(filepath.Join(ta.workspace, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{"": ta.workspace, "sub": ta.workspace + "/sub", "/": "/"} {
		res := ta.run(t, &agentv1.ExecRequest{Command: []string{"pwd"}, WorkingDir: dir})
		if got := strings.TrimSpace(string(res.Stdout)); got != want {
			t.Errorf("working_dir %q: pwd = %q, want %q", dir, got, want)
		}
	}
}

func TestExecuteConcurrentCalls(t *testing.T) {
	ta := startAgent(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := ta.Run(ctx(t), cmd("sh", "-c", "echo out-$0; echo err-$0 >&2; exit $0", fmt.Sprint(i)))
			switch {
			case err != nil:
				errs <- err
			case res.ExitCode != int32(i) || string(res.Stdout) != fmt.Sprintf("out-%d\n", i) || string(res.Stderr) != fmt.Sprintf("err-%d\n", i):
				errs <- fmt.Errorf("call %d got exit %d stdout %q stderr %q", i, res.ExitCode, res.Stdout, res.Stderr)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

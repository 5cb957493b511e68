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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// listed returns the listed process with pid, waiting (boundedly) until
// cond holds for it.
func (ta *testAgent) listed(t *testing.T, pid int32, cond func(*agentv1.ProcessInfo) bool) *agentv1.ProcessInfo {
	t.Helper()
	var last *agentv1.ProcessInfo
	matched := eventually(t, 10*time.Millisecond, func() bool {
		resp, err := ta.ListProcesses(ctx(t), &agentv1.ListProcessesRequest{LogTailBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range resp.GetProcesses() {
			if p.GetPid() == pid {
				last = p
				if cond(p) {
					return true
				}
			}
		}
		return false
	})
	if !matched {
		t.Fatalf("process %d never matched; last seen: %v", pid, last)
	}
	return last
}

func TestBackgroundReturnsAtOnceAndKeepsALog(t *testing.T) {
	logDir := t.TempDir()
	ta := startAgent(t, func(c *agent.Config) { c.LogDir = logDir })
	start := time.Now()
	res := ta.run(t, &agentv1.ExecRequest{
		Command:    []string{"sh", "-c", "echo hello; echo oops >&2; exec sleep 1000"},
		Background: true,
		Tag:        "server",
	})
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("background Execute took %v", took)
	}
	if !res.Background || res.Pid <= 0 {
		t.Fatalf("exit %+v, want background with a pid", res.ExitStatus)
	}
	p := ta.listed(t, res.Pid, func(p *agentv1.ProcessInfo) bool {
		return bytes.Contains(p.GetLogTail(), []byte("hello\n")) && bytes.Contains(p.GetLogTail(), []byte("oops\n"))
	})
	if p.GetState() != agentv1.ProcessInfo_RUNNING || p.GetTag() != "server" || !p.GetBackground() || p.GetCommand()[0] != "sh" {
		t.Errorf("listed %v", p)
	}
	// A second process cannot take a running process's tag.
	_, err := ta.Run(ctx(t), &agentv1.ExecRequest{Command: []string{"true"}, Background: true, Tag: "server"})
	wantCode(t, err, codes.AlreadyExists)

	sig, err := ta.Signal(ctx(t), &agentv1.SignalRequest{Tag: "server", Signal: "term"})
	if err != nil || sig.GetPid() != res.Pid || sig.GetSignal() != "SIGTERM" || !sig.GetProcessGroup() {
		t.Fatalf("signal: %v %v", sig, err)
	}
	p = ta.listed(t, res.Pid, func(p *agentv1.ProcessInfo) bool { return p.GetState() == agentv1.ProcessInfo_EXITED })
	if p.GetSignal() != "SIGTERM" || p.GetExitCode() != 143 || p.GetEndTimeNanos() < p.GetStartTimeNanos() {
		t.Errorf("exited process %v", p)
	}
	logs, _ := filepath.Glob(filepath.Join(logDir, "*.log"))
	if len(logs) != 1 {
		t.Fatalf("log files %v, want one", logs)
	}
	if b, _ := os.ReadFile(logs[0]); !strings.Contains(string(b), "hello\n") {
		t.Errorf("log file holds %q", b)
	}
	_, err = ta.Signal(ctx(t), &agentv1.SignalRequest{Tag: "server"})
	wantCode(t, err, codes.NotFound)
}

func TestBackgroundLogIsBounded(t *testing.T) {
	ta := startAgent(t, func(c *agent.Config) { c.LogTailBytes = 1000 })
	res := ta.run(t, &agentv1.ExecRequest{
		Command:    []string{"sh", "-c", "head -c 5000000 /dev/zero; echo END"},
		Background: true,
	})
	p := ta.listed(t, res.Pid, func(p *agentv1.ProcessInfo) bool {
		return p.GetState() == agentv1.ProcessInfo_EXITED && bytes.HasSuffix(p.GetLogTail(), []byte("END\n"))
	})
	if len(p.GetLogTail()) != 1000 || !p.GetLogTruncated() || p.GetExitCode() != 0 {
		t.Errorf("tail of %d bytes, truncated=%v, exit %d; want 1000, true, 0", len(p.GetLogTail()), p.GetLogTruncated(), p.GetExitCode())
	}
}

func TestBackgroundTimeout(t *testing.T) {
	ta := startAgent(t, nil)
	res := ta.run(t, &agentv1.ExecRequest{Command: []string{"sleep", "1000"}, Background: true, TimeoutMillis: 200})
	p := ta.listed(t, res.Pid, func(p *agentv1.ProcessInfo) bool { return p.GetState() == agentv1.ProcessInfo_EXITED })
	if !p.GetTimedOut() || p.GetSignal() != "SIGTERM" {
		t.Errorf("exited %v, want timed out by SIGTERM", p)
	}
}

func TestSignalReachesTheWholeGroupByDefault(t *testing.T) {
	ta := startAgent(t, nil)
	start := func() (leader int32, grandchild int) {
		res := ta.run(t, &agentv1.ExecRequest{Command: []string{"sh", "-c", "sleep 1000 & echo $!; wait"}, Background: true})
		p := ta.listed(t, res.Pid, func(p *agentv1.ProcessInfo) bool { return bytes.HasSuffix(p.GetLogTail(), []byte("\n")) })
		return res.Pid, atoi(t, string(p.GetLogTail()))
	}

	leader, grandchild := start()
	if _, err := ta.Signal(ctx(t), &agentv1.SignalRequest{Pid: leader, Signal: "9"}); err != nil {
		t.Fatal(err)
	}
	waitDead(t, int(leader))
	waitDead(t, grandchild)

	leader, grandchild = start()
	resp, err := ta.Signal(ctx(t), &agentv1.SignalRequest{Pid: leader, Signal: "SIGKILL", ProcessOnly: true})
	if err != nil || resp.GetProcessGroup() {
		t.Fatalf("process_only signal: %v %v", resp, err)
	}
	waitDead(t, int(leader))
	if dead(grandchild) {
		t.Fatal("process_only killed the grandchild too")
	}
	// The orphaned grandchild is still the agent's: it is in its group.
	resp, err = ta.Signal(ctx(t), &agentv1.SignalRequest{Pid: int32(grandchild), Signal: "KILL"})
	if err != nil || resp.GetProcessGroup() {
		t.Fatalf("signal to the grandchild: %v %v", resp, err)
	}
	waitDead(t, grandchild)
}

func TestSignalThePidACommandPrinted(t *testing.T) {
	// The manual's host mode: "nohup python app.py > log 2>&1 & echo $!".
	ta := startAgent(t, nil)
	res := ta.run(t, cmd("sh", "-c", "nohup sleep 1000 >/dev/null 2>&1 & echo $!"))
	pid := atoi(t, string(res.Stdout))
	// Not SIGINT: a non-interactive shell starts "&" jobs ignoring it.
	if _, err := ta.Signal(ctx(t), &agentv1.SignalRequest{Pid: int32(pid), Signal: "SIGTERM"}); err != nil {
		t.Fatal(err)
	}
	waitDead(t, pid)
}

func TestSignalErrors(t *testing.T) {
	ta := startAgent(t, nil)
	_, err := ta.Signal(ctx(t), &agentv1.SignalRequest{Pid: 999999999})
	wantCode(t, err, codes.NotFound)
	_, err = ta.Signal(ctx(t), &agentv1.SignalRequest{Pid: int32(os.Getpid())})
	wantCode(t, err, codes.NotFound) // alive, but not the agent's
	_, err = ta.Signal(ctx(t), &agentv1.SignalRequest{Tag: "nobody"})
	wantCode(t, err, codes.NotFound)
	_, err = ta.Signal(ctx(t), &agentv1.SignalRequest{})
	wantCode(t, err, codes.InvalidArgument)
	res := ta.run(t, &agentv1.ExecRequest{Command: []string{"sleep", "1000"}, Background: true})
	for _, bad := range []string{"SIGNOPE", "0", "65", "-9"} {
		_, err = ta.Signal(ctx(t), &agentv1.SignalRequest{Pid: res.Pid, Signal: bad})
		wantCode(t, err, codes.InvalidArgument)
	}
}

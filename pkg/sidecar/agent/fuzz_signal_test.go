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
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// sleeper is a background command of the agent: a process group whose
// leader and one other member sleep. Fuzzed signals kill or stop it; it is
// started again as needed.
type sleeper struct {
	ta             *testAgent
	leader, member int
}

const sleeperTag = "sleeper"

func (s *sleeper) alive() bool {
	for _, pid := range []int{s.leader, s.member} {
		p, err := procutil.ReadProc(pid)
		if pid == 0 || err != nil || p.State == 'Z' || p.Pgid != s.leader {
			return false
		}
	}
	return true
}

// ensure makes sure a sleeper runs, whole.
func (s *sleeper) ensure(ctx context.Context, t *testing.T) {
	t.Helper()
	if s.alive() {
		return
	}
	if s.leader != 0 {
		// What is left of the old one goes, and the agent has seen its
		// leader exit (its tag is free again).
		// (Its orphaned member's zombie is init's to reap, when init will.)
		_ = procutil.SignalGroup(s.leader, unix.SIGKILL)
		waitExited(ctx, t, s.ta, int32(s.leader))
		for procutil.GroupAlive(s.leader) {
			select {
			case <-ctx.Done():
				t.Fatalf("the old sleeper's group %d is still alive", s.leader)
			case <-time.After(time.Millisecond):
			}
		}
	}
	res, err := s.ta.Run(ctx, &agentv1.ExecRequest{Command: []string{"sleeper"}, Background: true, Tag: sleeperTag})
	if err != nil || !res.Started {
		t.Fatalf("starting the sleeper: %+v, %v", res, err)
	}
	s.leader, s.member = int(res.Pid), 0
	for s.member == 0 {
		procs, err := procutil.ListProcs()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			if p.Pgid == s.leader && p.Pid != s.leader {
				s.member = p.Pid
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the sleeper %d started no second process", s.leader)
		case <-time.After(time.Millisecond):
		}
	}
}

func (s *sleeper) owns(pid int) bool {
	if pid == s.leader {
		return true
	}
	pgid, err := unix.Getpgid(pid)
	return err == nil && pgid == s.leader
}

// harmlessSignal is what the fuzz target sends to processes that are not
// the agent's: if the agent wrongly signalled one, it would do no harm.
const harmlessSignal = "WINCH"

// FuzzSignalProcess sends hostile SignalProcess requests (pids 0, -1,
// negative, huge, of processes the agent did not start: the test itself,
// its parent, init, a process beside the agent; signal names and numbers
// valid and not; tags; process_only) and ListProcesses requests to a real
// agent running a two-process background command. The agent signals only
// its own processes, group-wide only for a group leader without
// process_only, and answers InvalidArgument for a bad signal or pid and
// NotFound for a process that is not its own. A signal the agent refuses
// reaches nobody: requests aimed at processes not the agent's carry a
// harmless signal, and their answer must be an error.
//
// Seeds: testdata/fuzz/FuzzSignalProcess and the f.Add calls below. Run
// longer: go test -run '^$' -fuzz '^FuzzSignalProcess$' -fuzztime 5m ./pkg/sidecar/agent
func FuzzSignalProcess(f *testing.F) {
	bin := fuzzBin(f)
	sleepPath, err := exec.LookPath("sleep")
	if err != nil {
		f.Fatal(err)
	}
	script := fmt.Sprintf("#!/bin/sh\n%[1]s 1000 &\nexec %[1]s 1000\n", sleepPath)
	if err := os.WriteFile(filepath.Join(bin, "sleeper"), []byte(script), 0o755); err != nil {
		f.Fatal(err)
	}
	ta := startAgent(f, func(c *agent.Config) {
		c.Env = []string{"PATH=" + bin}
		c.AllowedRoots = []string{c.Workspace}
		c.KillGrace = 100 * time.Millisecond
	})
	// A process beside the agent, in its own group: never the agent's to signal.
	victim := exec.Command(sleepPath, "1000")
	victim.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := victim.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		_ = victim.Process.Kill()
		_ = victim.Wait()
	})
	s := &sleeper{ta: ta}

	const (
		targetRaw = iota
		targetLeader
		targetMember
		targetVictim
		targetSelf
		targetParent
		targetInit
		targetNegatedLeader
		targets
	)
	type seed struct {
		target      uint8
		pid         int32
		signal, tag string
		processOnly bool
		logTail     int32
	}
	for _, sd := range []seed{
		{target: targetLeader, signal: "TERM"},
		{target: targetLeader, signal: "sigkill", processOnly: true},
		{target: targetMember, signal: "9"},
		{target: targetLeader, signal: "STOP"},
		{target: targetLeader, signal: "SIGTSTP", processOnly: true},
		{target: targetLeader, signal: "64"},
		{target: targetLeader, signal: "WINCH", logTail: 1 << 30},
		{target: targetRaw, tag: sleeperTag, signal: "USR1"},
		{target: targetRaw, tag: "nobody"},
		{target: targetRaw, tag: "\xff"},
		{target: targetRaw, pid: 0},
		{target: targetRaw, pid: -1, signal: "KILL"},
		{target: targetRaw, pid: -2147483648},
		{target: targetRaw, pid: 2147483647},
		{target: targetVictim, signal: "TERM"},
		{target: targetSelf, signal: "KILL"},
		{target: targetParent, signal: "KILL"},
		{target: targetInit, signal: "TERM"},
		{target: targetNegatedLeader, signal: "KILL"},
		{target: targetLeader, signal: "0"},
		{target: targetLeader, signal: "65"},
		{target: targetLeader, signal: "-15"},
		{target: targetLeader, signal: " 15 "},
		{target: targetLeader, signal: "SIG"},
		{target: targetLeader, signal: "\xff"},
		{target: targetLeader, logTail: -1},
	} {
		f.Add(sd.target, sd.pid, sd.signal, sd.tag, sd.processOnly, sd.logTail)
	}
	f.Fuzz(func(t *testing.T, target uint8, rawPid int32, signal, tag string, processOnly bool, logTail int32) {
		ctx, cancel := context.WithTimeout(context.Background(), fuzzCallTimeout)
		defer cancel()
		s.ensure(ctx, t)

		list, err := ta.ListProcesses(ctx, &agentv1.ListProcessesRequest{LogTailBytes: logTail})
		if logTail < 0 {
			wantCodeIn(t, "ListProcesses with a negative tail", err, codes.InvalidArgument)
		} else if err != nil {
			t.Fatalf("ListProcesses: %v", err)
		} else if !listsRunning(list, s.leader) {
			t.Fatalf("ListProcesses does not show the sleeper %d running: %v", s.leader, list)
		}

		pid := rawPid
		switch target % targets {
		case targetLeader:
			pid = int32(s.leader)
		case targetMember:
			pid = int32(s.member)
		case targetVictim:
			pid = int32(victim.Process.Pid)
		case targetSelf:
			pid = int32(os.Getpid())
		case targetParent:
			pid = int32(os.Getppid())
		case targetInit:
			pid = 1
		case targetNegatedLeader:
			pid = -int32(s.leader)
		}
		ours := false
		if tag != "" {
			ours = tag == sleeperTag
		} else if pid > 0 {
			ours = s.owns(int(pid))
		}
		_, parseErr := procutil.ParseSignal(signal)
		if !ours && (signal == "" || parseErr == nil) {
			signal, parseErr = harmlessSignal, nil
		}
		req := &agentv1.SignalRequest{Pid: pid, Signal: signal, Tag: tag, ProcessOnly: processOnly}
		if !validUTF8(signal, tag) {
			err := invokeRaw(ctx, ta.Conn(), "/arl.agent.v1.AgentService/SignalProcess", marshalLax(req.ProtoReflect()))
			wantCodeIn(t, "SignalProcess with invalid UTF-8", err, codes.Internal)
			return
		}
		resp, err := ta.Signal(ctx, req)
		switch {
		case signal != "" && parseErr != nil:
			wantCodeIn(t, fmt.Sprintf("signal %q", signal), err, codes.InvalidArgument)
			return
		case tag == "" && pid <= 0:
			wantCodeIn(t, fmt.Sprintf("pid %d", pid), err, codes.InvalidArgument)
			return
		case !ours:
			wantCodeIn(t, fmt.Sprintf("pid %d (tag %q), not the agent's", pid, tag), err, codes.NotFound)
			return
		case err != nil:
			t.Fatalf("signalling the agent's process %d (tag %q) with %q: %v", pid, tag, signal, err)
		}
		target32 := int(resp.GetPid())
		if tag == "" && target32 != int(pid) || tag != "" && target32 != s.leader {
			t.Fatalf("signalled %d, want %d (tag %q)", target32, pid, tag)
		}
		if wantGroup := target32 == s.leader && !processOnly; resp.GetProcessGroup() != wantGroup {
			t.Fatalf("signal to %d (leader %d, process_only %v) went group-wide: %v", target32, s.leader, processOnly, resp.GetProcessGroup())
		}
		settle(ctx, t, resp, s)
	})
}

func listsRunning(list *agentv1.ListProcessesResponse, pid int) bool {
	for _, p := range list.GetProcesses() {
		if int(p.GetPid()) == pid && p.GetState() == agentv1.ProcessInfo_RUNNING {
			return true
		}
	}
	return false
}

// settle waits for a signal's effect on the sleeper to be done, so that the
// next input finds it either whole or dead: a stopped group is continued,
// and a signal whose default action ends a process is waited out.
func settle(ctx context.Context, t *testing.T, resp *agentv1.SignalResponse, s *sleeper) {
	t.Helper()
	sig, err := procutil.ParseSignal(resp.GetSignal())
	if err != nil {
		t.Fatalf("the answer names signal %q: %v", resp.GetSignal(), err)
	}
	switch sig {
	case unix.SIGCHLD, unix.SIGCONT, unix.SIGURG, unix.SIGWINCH:
		return // ignored by default
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		// SIGCONT also discards a stop signal not yet acted on.
		_ = procutil.SignalGroup(s.leader, unix.SIGCONT)
		return
	}
	pids := []int{int(resp.GetPid())}
	if resp.GetProcessGroup() {
		pids = []int{s.leader, s.member}
	}
	for _, pid := range pids {
		// The member was started with "&" by a non-interactive shell,
		// which ignores SIGINT and SIGQUIT in such jobs (POSIX).
		if pid == s.member && (sig == unix.SIGINT || sig == unix.SIGQUIT) {
			continue
		}
		for !dead(pid) {
			select {
			case <-ctx.Done():
				t.Fatalf("process %d survived %s: %v", pid, resp.GetSignal(), ctx.Err())
			case <-time.After(time.Millisecond):
			}
		}
	}
}

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

package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// execOptions are the limits of one Execute call.
type execOptions struct {
	timeout   time.Duration
	grace     time.Duration
	maxOutput int64
	// oomKills is the cgroup's OOM kill count before the command started.
	oomKills int64
}

func (a *Agent) execOptions(req *agentv1.ExecRequest) (execOptions, error) {
	o := execOptions{grace: a.cfg.KillGrace, maxOutput: a.cfg.MaxOutputBytes, oomKills: oomKills(a.cfg.OOMEvents)}
	switch {
	case req.GetTimeoutMillis() < 0 || req.GetTimeoutSeconds() < 0:
		return o, status.Error(codes.InvalidArgument, "timeout must not be negative")
	case req.GetTimeoutMillis() > 0:
		o.timeout = millis(req.GetTimeoutMillis())
	case req.GetTimeoutSeconds() > 0:
		o.timeout = time.Duration(req.GetTimeoutSeconds()) * time.Second
	}
	switch {
	case req.GetKillGraceMillis() < 0:
		return o, status.Error(codes.InvalidArgument, "kill_grace_millis must not be negative")
	case req.GetKillGraceMillis() > 0:
		o.grace = millis(req.GetKillGraceMillis())
	}
	switch {
	case req.GetMaxOutputBytes() < 0:
		return o, status.Error(codes.InvalidArgument, "max_output_bytes must not be negative")
	case req.GetMaxOutputBytes() > 0:
		o.maxOutput = req.GetMaxOutputBytes()
	}
	return o, nil
}

// millis converts a request's milliseconds to a Duration. Past what a
// Duration holds (about 292 years) it saturates: multiplying would wrap
// around, and a huge timeout would fire at once (or never be set).
func millis(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// Execute runs a command; see agent.proto.
func (a *Agent) Execute(req *agentv1.ExecRequest, stream agentv1.AgentService_ExecuteServer) error {
	if err := validateCommand(req.GetCommand(), req.GetEnv(), req.GetWorkingDir()); err != nil {
		return err
	}
	opts, err := a.execOptions(req)
	if err != nil {
		return err
	}
	spec := &commandSpec{
		argv: req.GetCommand(),
		env:  a.commandEnv(req.GetEnv()),
		dir:  a.workingDir(req.GetWorkingDir()),
	}
	if req.Stdin != nil {
		spec.stdin = req.Stdin
	}
	p := newProcess(req.GetTag(), spec.argv, req.GetBackground())
	if err := a.procs.reserve(p); err != nil {
		return err
	}
	cmd, err := a.startPiped(spec)
	if err != nil {
		a.procs.release(p)
		var se *startError
		if errors.As(err, &se) {
			return sendStartError(stream, se)
		}
		return err
	}
	a.procs.started(p, cmd.pid, cmd.start)
	if cmd.stdin != nil {
		go feedStdin(cmd.stdin, spec.stdin)
	}
	klog.V(2).InfoS("Started command", "pid", cmd.pid, "tag", p.tag, "background", p.background, "argv0", spec.argv[0])
	if p.background {
		return a.runBackground(stream, p, cmd, opts)
	}
	return a.runForeground(stream, p, cmd, opts)
}

func sendStartError(stream agentv1.AgentService_ExecuteServer, se *startError) error {
	if err := stream.Send(&agentv1.ExecLog{Event: &agentv1.ExecLog_Stderr{Stderr: []byte(se.msg + "\n")}}); err != nil {
		return err
	}
	return stream.Send(&agentv1.ExecLog{Event: &agentv1.ExecLog_Exit{Exit: &agentv1.ExecExit{ExitCode: se.code}}})
}

// execSender serialises Send on one stream: grpc-go forbids concurrent
// SendMsg, and stdout and stderr are read by two goroutines.
type execSender struct {
	mu     sync.Mutex
	stream agentv1.AgentService_ExecuteServer
	err    error
}

func (s *execSender) send(m *agentv1.ExecLog) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = s.stream.Send(m)
	}
	return s.err
}

// cappedOutput sends one stream's chunks until maxBytes, then reads and
// drops the rest, so that the command never stalls on a full pipe.
type cappedOutput struct {
	sender    *execSender
	stderr    bool
	maxBytes  int64
	sent      int64
	truncated bool
}

func (c *cappedOutput) write(b []byte) {
	room := c.maxBytes - c.sent
	if int64(len(b)) > room {
		b = b[:max(room, 0)]
		c.truncated = true
	}
	if len(b) == 0 {
		return
	}
	c.sent += int64(len(b))
	// grpc-go may keep the message after Send returns; b is the pump's buffer.
	data := append([]byte(nil), b...)
	m := &agentv1.ExecLog{Event: &agentv1.ExecLog_Stdout{Stdout: data}}
	if c.stderr {
		m.Event = &agentv1.ExecLog_Stderr{Stderr: data}
	}
	_ = c.sender.send(m) // a broken stream ends the call through its context
}

func (a *Agent) runForeground(stream agentv1.AgentService_ExecuteServer, p *process, cmd *piped, opts execOptions) error {
	sender := &execSender{stream: stream}
	startErr := sender.send(&agentv1.ExecLog{Event: &agentv1.ExecLog_Started{Started: &agentv1.ExecStarted{Pid: int32(cmd.pid), Tag: p.tag}}})
	stdout := &cappedOutput{sender: sender, maxBytes: opts.maxOutput}
	stderr := &cappedOutput{sender: sender, stderr: true, maxBytes: opts.maxOutput}
	outPump := startPump(cmd.stdout, true, stdout.write)
	errPump := startPump(cmd.stderr, true, stderr.write)

	ctx := stream.Context()
	if startErr != nil {
		ctx = canceledContext
	}
	exit, timedOut := a.waitCommand(ctx, cmd, opts)
	if cmd.stdin != nil {
		cmd.stdin.Close()
	}
	outPump.finish()
	errPump.finish()
	a.procs.finished(p, exit, timedOut)
	klog.V(2).InfoS("Command exited", "pid", cmd.pid, "exitCode", exit.Code(), "signal", exit.SignalName(), "timedOut", timedOut, "duration", exit.Time.Sub(cmd.start))
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	return sender.send(&agentv1.ExecLog{Event: &agentv1.ExecLog_Exit{Exit: &agentv1.ExecExit{
		ExitCode:        exit.Code(),
		Signal:          exit.SignalName(),
		TimedOut:        timedOut,
		DurationNanos:   int64(exit.Time.Sub(cmd.start)),
		StdoutTruncated: stdout.truncated,
		StderrTruncated: stderr.truncated,
		Pid:             int32(cmd.pid),
		OomKilled:       a.oomKilled(exit, opts),
	}}})
}

// oomKilled says whether the OOM killer ended the command: it failed, and
// the cgroup counted an OOM kill while it ran (the victim may be a child,
// as under `sh -c`, which then exits 137). Another command's OOM kill at
// the same moment would be attributed to it too.
func (a *Agent) oomKilled(exit procutil.Exit, opts execOptions) bool {
	return exit.Code() != 0 && opts.oomKills >= 0 && oomKills(a.cfg.OOMEvents) > opts.oomKills
}

var canceledContext = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// waitCommand waits for the command to exit. On timeout, or when ctx ends
// (the caller went away), it terminates the command's process group: SIGTERM,
// then SIGKILL after the grace period, so that no descendant left in the
// group survives; it returns once that is done.
func (a *Agent) waitCommand(ctx context.Context, cmd *piped, opts execOptions) (procutil.Exit, bool) {
	var timeout <-chan time.Time
	if opts.timeout > 0 {
		t := time.NewTimer(opts.timeout)
		defer t.Stop()
		timeout = t.C
	}
	var terminated chan struct{}
	terminate := func(reason string) {
		if terminated != nil {
			return
		}
		klog.V(2).InfoS("Terminating command", "pid", cmd.pid, "reason", reason, "grace", opts.grace)
		terminated = make(chan struct{})
		go func() {
			defer close(terminated)
			procutil.TerminateGroup(context.Background(), cmd.pid, opts.grace)
		}()
	}
	timedOut := false
	done := ctx.Done()
	for {
		select {
		case exit := <-cmd.exited:
			if terminated != nil {
				<-terminated
			}
			return exit, timedOut
		case <-timeout:
			timedOut = true
			timeout = nil
			terminate(fmt.Sprintf("timeout after %v", opts.timeout))
		case <-done:
			done = nil
			terminate("the caller cancelled: " + ctx.Err().Error())
		}
	}
}

func (a *Agent) runBackground(stream agentv1.AgentService_ExecuteServer, p *process, cmd *piped, opts execOptions) error {
	p.log = newProcessLog(a.cfg.LogTailBytes, a.openProcessLog(cmd.pid), opts.maxOutput, 2)
	for _, f := range []*os.File{cmd.stdout, cmd.stderr} {
		pump := startPump(f, true, p.log.write)
		go func() {
			pump.wait()
			p.log.closeWriter()
		}()
	}
	go func() {
		exit, timedOut := a.waitCommand(context.Background(), cmd, opts)
		if cmd.stdin != nil {
			cmd.stdin.Close()
		}
		a.procs.finished(p, exit, timedOut)
		klog.V(2).InfoS("Background command exited", "pid", cmd.pid, "tag", p.tag, "exitCode", exit.Code(), "signal", exit.SignalName(), "timedOut", timedOut)
	}()
	if err := stream.Send(&agentv1.ExecLog{Event: &agentv1.ExecLog_Started{Started: &agentv1.ExecStarted{Pid: int32(cmd.pid), Tag: p.tag}}}); err != nil {
		return err
	}
	return stream.Send(&agentv1.ExecLog{Event: &agentv1.ExecLog_Exit{Exit: &agentv1.ExecExit{
		Pid:        int32(cmd.pid),
		Background: true,
	}}})
}

// openProcessLog creates the log file of a background process, when the
// agent keeps them; a failure only costs the file, not the command.
func (a *Agent) openProcessLog(pid int) *os.File {
	if a.cfg.LogDir == "" {
		return nil
	}
	name := filepath.Join(a.cfg.LogDir, fmt.Sprintf("%d-%d.log", time.Now().Unix(), pid))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		klog.ErrorS(err, "Creating a process log failed", "pid", pid)
		return nil
	}
	return f
}

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
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

const (
	defaultRows = 24
	defaultCols = 80
	defaultTerm = "xterm-256color"
	// eofChar is what a terminal reads as end of input (VEOF, ^D).
	eofChar = 0x04
)

// InteractiveShell runs a command on a PTY; see agent.proto. One goroutine
// sends (output, then the exit); the handler's goroutine receives.
func (a *Agent) InteractiveShell(stream agentv1.AgentService_InteractiveShellServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "no input: send start first")
	}
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		start = &agentv1.ShellStart{}
	} else {
		first = nil // consumed
	}
	argv := start.GetCommand()
	if len(argv) == 0 {
		argv = a.defaultShell()
	}
	if err := validateCommand(argv, start.GetEnv(), start.GetWorkingDir()); err != nil {
		return err
	}
	if strings.IndexByte(start.GetTerm(), 0) >= 0 {
		return status.Error(codes.InvalidArgument, "term contains a NUL byte")
	}
	rows, cols := start.GetRows(), start.GetCols()
	if rows == 0 && cols == 0 {
		rows, cols = defaultRows, defaultCols
	}
	if err := checkWinsize(rows, cols); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	term := start.GetTerm()
	if term == "" {
		term = defaultTerm
	}
	env := map[string]string{"TERM": term}
	for k, v := range start.GetEnv() {
		env[k] = v
	}
	spec := &commandSpec{argv: argv, env: a.commandEnv(env), dir: a.workingDir(start.GetWorkingDir())}
	path, err := resolveCommand(spec)
	if err != nil {
		return sendShellStartError(stream, err)
	}

	master, slave, err := openPTY()
	if err != nil {
		return status.Errorf(codes.Internal, "%v", err)
	}
	defer master.Close()
	if err := setWinsize(master, rows, cols); err != nil {
		slave.Close()
		return status.Errorf(codes.Internal, "setting the terminal size: %v", err)
	}
	p := newProcess("", argv, false)
	pid, exited, err := a.reaper.StartProcess(path, argv, &syscall.ProcAttr{
		Dir:   spec.dir,
		Env:   spec.env,
		Files: []uintptr{slave.Fd(), slave.Fd(), slave.Fd()},
		// A session of its own with the PTY as controlling terminal: job
		// control, ^C and SIGWINCH work as in a terminal.
		Sys: &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0},
	})
	slave.Close()
	if err != nil {
		return sendShellStartError(stream, execErrno(path, err))
	}
	startTime := time.Now()
	a.procs.started(p, pid, startTime)
	klog.V(2).InfoS("Started shell", "pid", pid, "argv0", argv[0])

	// The sender: the first message names the pid, then output as it comes.
	var sendMu sync.Mutex
	send := func(m *agentv1.ShellOutput) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return stream.Send(m)
	}
	_ = send(&agentv1.ShellOutput{Pid: int32(pid)})
	out := startPump(master, false, func(b []byte) {
		_ = send(&agentv1.ShellOutput{Data: append([]byte(nil), b...)})
	})

	// The receiver ends when the call does (Recv fails then).
	go func() {
		if first != nil {
			a.shellInput(master, pid, first)
		}
		for {
			in, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				// A half-close is the end of input: ^D, as a terminal reads it.
				_, _ = master.Write([]byte{eofChar})
				return
			}
			if err != nil {
				return
			}
			a.shellInput(master, pid, in)
		}
	}()

	ctx := stream.Context()
	var exit procutil.Exit
	select {
	case exit = <-exited:
	case <-ctx.Done():
		// The caller is gone: hang up, as a terminal closing would, then
		// make sure the session's group ends.
		_ = procutil.SignalGroup(pid, unix.SIGHUP)
		procutil.TerminateGroup(context.Background(), pid, a.cfg.KillGrace)
		exit = <-exited
	}
	out.finish()
	a.procs.finished(p, exit, false)
	klog.V(2).InfoS("Shell exited", "pid", pid, "exitCode", exit.Code(), "signal", exit.SignalName())
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	return send(&agentv1.ShellOutput{ExitCode: exit.Code(), Signal: exit.SignalName(), Closed: true})
}

func (a *Agent) shellInput(master *os.File, pid int, in *agentv1.ShellInput) {
	if in.GetResize() {
		if err := setWinsize(master, in.GetRows(), in.GetCols()); err != nil {
			klog.V(2).InfoS("Ignoring a resize", "pid", pid, "err", err)
		}
	}
	switch v := in.GetInput().(type) {
	case *agentv1.ShellInput_Data:
		if _, err := master.Write(v.Data); err != nil {
			klog.V(2).InfoS("Writing to the terminal failed", "pid", pid, "err", err)
		}
	case *agentv1.ShellInput_Signal:
		sig, err := procutil.ParseSignal(v.Signal)
		if err != nil {
			klog.V(2).InfoS("Ignoring an unknown signal", "pid", pid, "signal", v.Signal)
			return
		}
		// Like the terminal's own ^C: to its foreground job.
		target := pid
		if fg, err := foregroundGroup(master); err == nil && fg > 0 {
			target = fg
		}
		_ = procutil.SignalGroup(target, sig)
	}
}

// sendShellStartError reports a command that could not start as a shell
// would: the reason on the terminal, then its exit code.
func sendShellStartError(stream agentv1.AgentService_InteractiveShellServer, err error) error {
	var se *startError
	if !errors.As(err, &se) {
		return err
	}
	if err := stream.Send(&agentv1.ShellOutput{Data: []byte(se.msg + "\r\n")}); err != nil {
		return err
	}
	return stream.Send(&agentv1.ShellOutput{ExitCode: se.code, Closed: true})
}

// defaultShell is $SHELL, else bash, else sh.
func (a *Agent) defaultShell() []string {
	if sh, ok := procutil.Getenv(a.env, "SHELL"); ok && sh != "" {
		return []string{sh}
	}
	for _, sh := range []string{"/bin/bash", "/bin/sh"} {
		if _, err := os.Stat(sh); err == nil {
			return []string{sh}
		}
	}
	return []string{"sh"}
}

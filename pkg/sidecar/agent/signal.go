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

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// SignalProcess signals a process the agent started; see agent.proto.
//
// The target is a running command (by pid or tag), or any process still in a
// process group the agent created, such as the PID a command printed for the
// server it started with "nohup ... &". A process that leads its group gets
// the signal group-wide unless process_only; another one alone.
func (a *Agent) SignalProcess(ctx context.Context, req *agentv1.SignalRequest) (*agentv1.SignalResponse, error) {
	sig := unix.SIGTERM
	if req.GetSignal() != "" {
		s, err := procutil.ParseSignal(req.GetSignal())
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, err.Error())
		}
		sig = s
	}
	pid, err := a.signalTarget(int(req.GetPid()), req.GetTag())
	if err != nil {
		return nil, err
	}
	group := !req.GetProcessOnly()
	if pgid, err := unix.Getpgid(pid); err != nil || pgid != pid {
		group = false
	}
	if group {
		err = unix.Kill(-pid, sig)
	} else {
		err = unix.Kill(pid, sig)
	}
	if errors.Is(err, unix.ESRCH) {
		return nil, status.Errorf(codes.NotFound, "process %d has exited", pid)
	}
	if err != nil {
		return nil, status.Errorf(codes.Internal, "signalling process %d: %v", pid, err)
	}
	klog.V(2).InfoS("Signalled process", "pid", pid, "signal", procutil.SignalName(sig), "group", group)
	return &agentv1.SignalResponse{Pid: int32(pid), Signal: procutil.SignalName(sig), ProcessGroup: group}, nil
}

func (a *Agent) signalTarget(pid int, tag string) (int, error) {
	switch {
	case tag != "":
		if p, ok := a.procs.lookup(0, tag); ok {
			return p.pid, nil
		}
		if p := a.procs.findExited(0, tag); p != nil {
			return 0, status.Errorf(codes.NotFound, "the process tagged %q (pid %d) has exited", tag, p.pid)
		}
		return 0, status.Errorf(codes.NotFound, "no process is tagged %q", tag)
	case pid <= 0:
		return 0, status.Error(codes.InvalidArgument, "pid or tag is required (pid must be positive)")
	}
	if _, ok := a.procs.lookup(pid, ""); ok {
		return pid, nil
	}
	if pgid, err := unix.Getpgid(pid); err == nil && pgid != a.mainPgid() && a.procs.ownsGroup(pgid) {
		return pid, nil
	}
	if p := a.procs.findExited(pid, ""); p != nil {
		return 0, status.Errorf(codes.NotFound, "process %d has exited", pid)
	}
	return 0, status.Errorf(codes.NotFound, "process %d was not started by the agent", pid)
}

// ListProcesses lists running commands and exited background ones.
func (a *Agent) ListProcesses(ctx context.Context, req *agentv1.ListProcessesRequest) (*agentv1.ListProcessesResponse, error) {
	tail := int(req.GetLogTailBytes())
	if tail < 0 {
		return nil, status.Error(codes.InvalidArgument, "log_tail_bytes must not be negative")
	}
	procs := a.procs.snapshot()
	resp := &agentv1.ListProcessesResponse{Processes: make([]*agentv1.ProcessInfo, 0, len(procs))}
	for _, p := range procs {
		resp.Processes = append(resp.Processes, p.info(tail))
	}
	return resp, nil
}

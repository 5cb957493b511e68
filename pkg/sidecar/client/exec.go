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

package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// Stream names an output stream of a command.
type Stream int

const (
	Stdout Stream = 1
	Stderr Stream = 2
)

func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// ExitStatus is how a command ended (agent.proto's ExecExit).
type ExitStatus struct {
	// Pid of the process; 0 when it could not be started.
	Pid int32
	// Started is false when the command could not start (exit code 127
	// not found, 126 not executable, 125 bad working directory; the reason
	// was sent on stderr).
	Started bool
	// Background: the process runs on; ExitCode means nothing yet.
	Background bool
	// ExitCode is the status, or 128+N when killed by signal N.
	ExitCode        int32
	Signal          string
	TimedOut        bool
	Duration        time.Duration
	StdoutTruncated bool
	StderrTruncated bool
	// OOMKilled: the kernel's OOM killer ended the command.
	OOMKilled bool
}

// Exec runs req and calls onChunk (if not nil) with each output chunk as it
// arrives, from the calling goroutine; the slice is the caller's to keep.
// It returns when the command has exited (foreground) or started
// (background).
//
// Cancelling ctx ends the call, and the agent then terminates the command's
// process group as it does on timeout (SIGTERM, then SIGKILL after the
// grace period): the command never outlives a cancelled caller. A command
// that must outlive its caller's context should be called with a detached
// context (context.WithoutCancel) and bounded by req's timeout instead,
// which the agent enforces whatever the caller does.
func (c *Client) Exec(ctx context.Context, req *agentv1.ExecRequest, onChunk func(Stream, []byte)) (*ExitStatus, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.api.Execute(ctx, req)
	if err != nil {
		return nil, err
	}
	st := &ExitStatus{}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, status.Error(codes.Internal, "the agent ended Execute without an exit status")
		}
		if err != nil {
			return nil, err
		}
		switch ev := msg.GetEvent().(type) {
		case *agentv1.ExecLog_Started:
			st.Started = true
			st.Pid = ev.Started.GetPid()
		case *agentv1.ExecLog_Stdout:
			if onChunk != nil {
				onChunk(Stdout, ev.Stdout)
			}
		case *agentv1.ExecLog_Stderr:
			if onChunk != nil {
				onChunk(Stderr, ev.Stderr)
			}
		case *agentv1.ExecLog_Exit:
			e := ev.Exit
			st.ExitCode = e.GetExitCode()
			st.Signal = e.GetSignal()
			st.TimedOut = e.GetTimedOut()
			st.OOMKilled = e.GetOomKilled()
			st.Duration = time.Duration(e.GetDurationNanos())
			st.StdoutTruncated = e.GetStdoutTruncated()
			st.StderrTruncated = e.GetStderrTruncated()
			st.Background = e.GetBackground()
			if e.GetPid() != 0 {
				st.Pid = e.GetPid()
			}
			return st, nil
		}
	}
}

// Result is a finished command with its output.
type Result struct {
	ExitStatus
	Stdout []byte
	Stderr []byte
}

// Run is Exec collecting the output in memory (up to req's cap).
func (c *Client) Run(ctx context.Context, req *agentv1.ExecRequest) (*Result, error) {
	var out, errb bytes.Buffer
	st, err := c.Exec(ctx, req, func(s Stream, b []byte) {
		if s == Stderr {
			errb.Write(b)
		} else {
			out.Write(b)
		}
	})
	if err != nil {
		return nil, err
	}
	return &Result{ExitStatus: *st, Stdout: out.Bytes(), Stderr: errb.Bytes()}, nil
}

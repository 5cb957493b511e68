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

package execstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// The subprotocols of pods/exec over WebSockets that an exec here
// speaks: v5 adds the half-close a command without a terminal needs to see
// the end of its stdin.
const (
	ProtocolV5 = "v5.channel.k8s.io"
	ProtocolV4 = "v4.channel.k8s.io"
)

// The channels of the remotecommand protocol, by number.
const (
	channelStdin = iota
	channelStdout
	channelStderr
	channelError
	channelResize
	channelCount
)

const (
	// execIdleTimeout ends an exec whose streams were quiet this long:
	// kubelet's default for pods/exec.
	execIdleTimeout = 4 * time.Hour
	// maxExecStdin bounds the stdin of a command without a terminal: the
	// agent takes it whole before the command starts, so it is held here
	// until the caller closes it. Larger inputs go as files.
	maxExecStdin = 16 << 20
	// maxExecOutput is no cap in practice: the output streams through,
	// held back by the caller's reading, never kept.
	maxExecOutput = 1 << 50
	// stdinChunk is how much terminal input one agent message carries.
	stdinChunk = 32 << 10
	// defaultRows and defaultCols size a terminal until the caller's
	// first resize (kubectl sends one at once).
	defaultRows, defaultCols = 24, 80
)

// execResult is how a command ended.
type execResult struct {
	code   int32
	signal string
}

// terminalSize is a message of the resize channel, as client-go's
// remotecommand sends it.
type terminalSize struct {
	Width  uint16
	Height uint16
}

// ServeWebSocket upgrades to a WebSocket with the channels opts asks for, runs
// the command and ends with its status on the error channel.
func ServeWebSocket(w http.ResponseWriter, req *http.Request, agent *client.Client, opts *arl.SandboxExecOptions) {
	logger := klog.FromContext(req.Context())
	attach := func(on bool, t wsstream.ChannelType) wsstream.ChannelType {
		if on {
			return t
		}
		return wsstream.IgnoreChannel
	}
	channels := make([]wsstream.ChannelType, channelCount)
	channels[channelStdin] = attach(opts.Stdin, wsstream.ReadChannel)
	channels[channelStdout] = attach(opts.Stdout, wsstream.WriteChannel)
	channels[channelStderr] = attach(opts.Stderr, wsstream.WriteChannel)
	channels[channelError] = wsstream.WriteChannel
	channels[channelResize] = attach(opts.TTY, wsstream.ReadChannel)
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		ProtocolV5: {Binary: true, Channels: channels},
		ProtocolV4: {Binary: true, Channels: channels},
	})
	conn.SetIdleTimeout(execIdleTimeout)
	_, streams, err := conn.Open(w, req)
	if err != nil {
		// The handshake failed and answered the caller itself.
		logger.V(2).Info("exec: no WebSocket", "err", err.Error())
		return
	}
	defer conn.Close() // the caller may be gone already: nothing to tell

	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	var res execResult
	if opts.TTY {
		res, err = runTerminal(ctx, cancel, agent, opts, streams)
	} else {
		res, err = runCommand(ctx, agent, opts, streams[channelStdin], streams[channelStdout], streams[channelStderr])
	}
	if err := writeExecStatus(streams[channelError], res, err); err != nil {
		logger.V(2).Info("exec: the caller left before the status", "err", err.Error())
	}
}

// runTerminal runs the command on the agent's PTY. The caller's stdin
// ending is a hang-up, as when a terminal's connection drops.
func runTerminal(ctx context.Context, hangUp context.CancelFunc, agent *client.Client, opts *arl.SandboxExecOptions, streams []io.ReadWriteCloser) (execResult, error) {
	shell, err := agent.Shell(ctx)
	if err != nil {
		return execResult{}, err
	}
	var sendMu sync.Mutex // a gRPC stream takes one sender at a time
	send := func(in *agentv1.ShellInput) error {
		sendMu.Lock()
		defer sendMu.Unlock()
		return shell.Send(in)
	}
	start := &agentv1.ShellStart{Command: opts.Command, Rows: defaultRows, Cols: defaultCols}
	if err := send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Start{Start: start}}); err != nil {
		return execResult{}, err
	}
	if opts.Stdin {
		go func() {
			buf := make([]byte, stdinChunk)
			for {
				n, err := streams[channelStdin].Read(buf)
				if n > 0 && send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Data{Data: append([]byte(nil), buf[:n]...)}}) != nil {
					return
				}
				if err != nil {
					hangUp()
					return
				}
			}
		}()
	}
	go func() {
		sizes := json.NewDecoder(streams[channelResize])
		for {
			var size terminalSize
			if sizes.Decode(&size) != nil {
				return
			}
			if send(&agentv1.ShellInput{Resize: true, Rows: int32(size.Height), Cols: int32(size.Width)}) != nil {
				return
			}
		}
	}()
	for {
		out, err := shell.Recv()
		if err != nil {
			return execResult{}, err
		}
		if len(out.Data) > 0 && opts.Stdout {
			if _, err := streams[channelStdout].Write(out.Data); err != nil {
				return execResult{}, err
			}
		}
		if out.Closed {
			return execResult{code: out.ExitCode, signal: out.Signal}, nil
		}
	}
}

// runCommand runs the command without a terminal: stdin, read to its end
// first, then stdout and stderr streamed apart as the command writes them.
func runCommand(ctx context.Context, agent *client.Client, opts *arl.SandboxExecOptions, stdin io.Reader, stdout, stderr io.Writer) (execResult, error) {
	req := &agentv1.ExecRequest{Command: opts.Command, MaxOutputBytes: maxExecOutput}
	if opts.Stdin {
		stdin, err := io.ReadAll(io.LimitReader(stdin, maxExecStdin+1))
		if err != nil {
			return execResult{}, err
		}
		if len(stdin) > maxExecStdin {
			return execResult{}, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf(
				"the stdin of a command without a terminal is held until it ends, up to %d bytes; send larger input as a file", maxExecStdin))
		}
		req.Stdin = stdin
	}
	stream, err := agent.API().Execute(ctx, req)
	if err != nil {
		return execResult{}, err
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			return execResult{}, err
		}
		var out io.Writer
		var data []byte
		switch ev := msg.Event.(type) {
		case *agentv1.ExecLog_Stdout:
			out, data = stdout, ev.Stdout
		case *agentv1.ExecLog_Stderr:
			out, data = stderr, ev.Stderr
		case *agentv1.ExecLog_Exit:
			return execResult{code: ev.Exit.ExitCode, signal: ev.Exit.Signal}, nil
		}
		if len(data) > 0 {
			if _, err := out.Write(data); err != nil {
				return execResult{}, err
			}
		}
	}
}

// writeExecStatus ends the exec as pods/exec does: a Status on the error
// channel, Success, or NonZeroExitCode with the code as its ExitCode
// cause (what remotecommand clients turn into an exit code).
func writeExecStatus(w io.Writer, res execResult, err error) error {
	status := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess}
	var apiStatus apierrors.APIStatus
	switch {
	case errors.As(err, &apiStatus):
		status = apiStatus.Status()
	case err != nil:
		status.Status, status.Reason = metav1.StatusFailure, metav1.StatusReasonInternalError
		status.Message = "the sandbox's agent: " + err.Error()
	case res.code != 0:
		status.Status, status.Reason = metav1.StatusFailure, "NonZeroExitCode"
		status.Message = fmt.Sprintf("command terminated with non-zero exit code: %d", res.code)
		if res.signal != "" {
			status.Message += " (" + res.signal + ")"
		}
		status.Details = &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: "ExitCode", Message: strconv.Itoa(int(res.code))}}}
	}
	return json.NewEncoder(w).Encode(status)
}

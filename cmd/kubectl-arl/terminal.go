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

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/remotecommand"
)

// terminal is this process's terminal in raw mode during a session, and
// the queue of its sizes (the first at once, then one per SIGWINCH).
type terminal struct {
	fd      int
	state   *term.State
	sizes   chan *remotecommand.TerminalSize
	stopped chan struct{}
}

// openTerminal puts stdin's terminal in raw mode, if stdin is one (so
// Ctrl-C travels as a byte to the sandbox's terminal, not as a signal here).
func openTerminal(ctx context.Context, streams genericiooptions.IOStreams) (*terminal, error) {
	t := &terminal{fd: -1, sizes: make(chan *remotecommand.TerminalSize, 1), stopped: make(chan struct{})}
	in, ok := streams.In.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		close(t.sizes)
		return t, nil
	}
	t.fd = int(in.Fd())
	state, err := term.MakeRaw(t.fd)
	if err != nil {
		return nil, err
	}
	t.state = state
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	t.sendSize()
	go func() {
		defer signal.Stop(winch)
		for {
			select {
			case <-winch:
				t.sendSize()
			case <-ctx.Done():
				return
			case <-t.stopped:
				return
			}
		}
	}()
	return t, nil
}

func (t *terminal) sendSize() {
	width, height, err := term.GetSize(t.fd)
	if err != nil {
		return
	}
	select {
	case t.sizes <- &remotecommand.TerminalSize{Width: uint16(width), Height: uint16(height)}:
	default: // the last size not yet sent is replaced by the newer one
		select {
		case <-t.sizes:
		default:
		}
		t.sizes <- &remotecommand.TerminalSize{Width: uint16(width), Height: uint16(height)}
	}
}

// Next implements remotecommand.TerminalSizeQueue; nil ends the queue.
func (t *terminal) Next() *remotecommand.TerminalSize {
	select {
	case size, ok := <-t.sizes:
		if !ok {
			return nil
		}
		return size
	case <-t.stopped:
		return nil
	}
}

// restore leaves raw mode.
func (t *terminal) restore() {
	close(t.stopped)
	if t.state != nil {
		_ = term.Restore(t.fd, t.state)
	}
}

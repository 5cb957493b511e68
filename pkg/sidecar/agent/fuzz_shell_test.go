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
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// maxResizes bounds the resize storm of one input.
const maxResizes = 256

// FuzzInteractiveShell opens PTY sessions with hostile starts (argv and env
// as FuzzExecute has them, working directories anywhere, terminal types with
// NUL bytes, sizes 0, negative or past what a terminal holds), then types
// fuzzed input into them, interleaved with resize storms and signals. The
// program is cat-stdin (the agent's default shell here) or another harmless
// one, so the input is only ever data. Whatever the input: a bad start is
// refused with InvalidArgument, a program that cannot start answers its exit
// code, a started one answers its pid first and a closed message last, a
// bad resize or signal is ignored, and nothing of the session is left.
//
// Seeds: testdata/fuzz/FuzzInteractiveShell and the f.Add calls below. Run
// longer: go test -run '^$' -fuzz '^FuzzInteractiveShell$' -fuzztime 5m ./pkg/sidecar/agent
func FuzzInteractiveShell(f *testing.F) {
	bin := fuzzBin(f)
	ta := startAgent(f, func(c *agent.Config) {
		c.Env = []string{"PATH=" + bin, "SHELL=" + filepath.Join(bin, "cat-stdin")}
		c.AllowedRoots = []string{c.Workspace}
		c.KillGrace = 100 * time.Millisecond
	})
	type seed struct {
		args, env, dir, term string
		rows, cols           int32
		input, resizes       []byte
		signal               string
		halfClose            bool
	}
	storm := make([]byte, 0, 8*maxResizes)
	for i := range maxResizes {
		storm = binary.LittleEndian.AppendUint32(storm, uint32(i*257))
		storm = binary.LittleEndian.AppendUint32(storm, uint32(-i))
	}
	for _, s := range []seed{
		{input: []byte("hello\n"), halfClose: true},
		{args: "cat-stdin", rows: 50, cols: 200, term: "dumb", input: []byte("partial line"), signal: "INT"},
		{args: "echo\nx", env: "A\tb"},
		{args: "true", rows: 1, cols: 1},
		{args: "no-such-program"},
		{args: "cat-stdin", dir: "does/not/exist"},
		{args: "cat-stdin", dir: "a\x00b"},
		{args: "", rows: 0, cols: 5},
		{rows: -1, cols: -1},
		{rows: 65535, cols: 65535},
		{rows: 65536, cols: 80},
		{rows: 2147483647, cols: -2147483648},
		{term: "x\x00y"},
		{term: "\xff"},
		{args: "\x00"},
		{args: "\n"},
		{env: "=\tx"},
		{env: "N\tx\x00"},
		{input: []byte("\x1a\x03\x1c\x04\x00\xff"), signal: "STOP"},
		{input: []byte("typed\n"), resizes: storm, signal: "WINCH", halfClose: true},
		{input: []byte(strings.Repeat("x", 10000)), signal: "nonsense"},
	} {
		f.Add(s.args, s.env, s.dir, s.term, s.rows, s.cols, s.input, s.resizes, s.signal, s.halfClose)
	}
	f.Fuzz(func(t *testing.T, args, env, dir, term string, rows, cols int32, input, resizes []byte, signal string, halfClose bool) {
		start := &agentv1.ShellStart{Command: fuzzArgv(args), Env: fuzzEnv(env), WorkingDir: dir, Rows: rows, Cols: cols, Term: term}
		ctx, cancel := context.WithTimeout(context.Background(), fuzzCallTimeout)
		defer cancel()
		first := &agentv1.ShellInput{Input: &agentv1.ShellInput_Start{Start: start}}
		if !validUTF8(append(append([]string{dir, term}, start.Command...), envStrings(start.Env)...)...) {
			err := invokeRaw(ctx, ta.Conn(), "/arl.agent.v1.AgentService/InteractiveShell", marshalLax(first.ProtoReflect()))
			wantCodeIn(t, "InteractiveShell with invalid UTF-8", err, codes.Internal)
			return
		}

		var inputs []*agentv1.ShellInput
		chunks := splitInput(input, 4)
		for i := 0; i+8 <= len(resizes) && i < 8*maxResizes; i += 8 {
			r := int32(binary.LittleEndian.Uint32(resizes[i:]))
			c := int32(binary.LittleEndian.Uint32(resizes[i+4:]))
			inputs = append(inputs, &agentv1.ShellInput{Resize: r%2 == 0 || c%3 != 0, Rows: r, Cols: c})
			if len(chunks) > 0 && i%64 == 0 {
				inputs = append(inputs, &agentv1.ShellInput{Input: &agentv1.ShellInput_Data{Data: chunks[0]}})
				chunks = chunks[1:]
			}
		}
		for _, c := range chunks {
			inputs = append(inputs, &agentv1.ShellInput{Input: &agentv1.ShellInput_Data{Data: c}})
		}
		if signal != "" {
			// (Invalid UTF-8 would not encode; the start covers that case.)
			signal = strings.ToValidUTF8(signal, "?")
			inputs = append(inputs, &agentv1.ShellInput{Input: &agentv1.ShellInput_Signal{Signal: signal}})
		}
		// Whatever came before, this ends the session's program.
		inputs = append(inputs, &agentv1.ShellInput{Input: &agentv1.ShellInput_Signal{Signal: "KILL"}})

		callCtx, cancelCall := context.WithCancel(ctx)
		defer cancelCall()
		stream, err := ta.Shell(callCtx)
		if err != nil {
			t.Fatal(err)
		}
		outputs := make(chan shellResult, 1)
		go func() { outputs <- readShell(stream) }()
		for _, in := range append([]*agentv1.ShellInput{first}, inputs...) {
			if stream.Send(in) != nil {
				break // the session ended; its status comes on the other side
			}
		}
		if halfClose {
			_ = stream.CloseSend()
		}
		var res shellResult
		select {
		case res = <-outputs:
		case <-ctx.Done():
			t.Fatalf("the session of %q did not end: %v", start.Command, ctx.Err())
		}

		validSize := (rows == 0 && cols == 0) || (rows > 0 && cols > 0 && rows <= 0xffff && cols <= 0xffff)
		argv := start.Command
		if len(argv) == 0 {
			argv = []string{"cat-stdin"} // the agent's $SHELL
		}
		if !validCommand(argv, start.Env) || !validSize || strings.ContainsRune(dir+term, 0) {
			wantCodeIn(t, "InteractiveShell with a bad start", res.err, codes.InvalidArgument)
			return
		}
		if res.err != nil {
			t.Fatalf("InteractiveShell %q: %v", argv, res.err)
		}
		if res.closed == nil {
			t.Fatalf("InteractiveShell %q ended without a closed message", argv)
		}
		workDir := ta.workspace
		if dir != "" {
			workDir = dir
			if !filepath.IsAbs(dir) {
				workDir = filepath.Join(ta.workspace, dir)
			}
		}
		st, statErr := os.Stat(workDir)
		wantStart := knownProgram(argv[0]) && statErr == nil && st.IsDir() && len(args)+len(env) < 64<<10
		switch {
		case res.pid == 0:
			if wantStart {
				t.Fatalf("%q in %q did not start: %v, %q", argv, dir, res.closed, res.data)
			}
			if code := res.closed.GetExitCode(); code < 125 || code > 127 {
				t.Fatalf("%q did not start but answered exit %d", argv, code)
			}
		case !wantStart:
			t.Fatalf("%q in %q started (pid %d): only %v can", argv, dir, res.pid, fuzzPrograms)
		case procutil.GroupExists(int(res.pid)):
			t.Fatalf("the session of %q (pid %d) left processes behind", argv, res.pid)
		}
	})
}

type shellResult struct {
	pid    int32
	data   []byte
	closed *agentv1.ShellOutput
	err    error
}

// readShell reads a session to its end: nil err once it ended with closed.
func readShell(stream agentv1.AgentService_InteractiveShellClient) shellResult {
	var res shellResult
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return res
		}
		if err != nil {
			res.err = err
			return res
		}
		if m.GetPid() != 0 {
			res.pid = m.GetPid()
		}
		res.data = append(res.data, m.GetData()...)
		if m.GetClosed() {
			res.closed = m
		}
	}
}

// splitInput cuts b into at most n pieces.
func splitInput(b []byte, n int) [][]byte {
	if len(b) == 0 {
		return nil
	}
	size := (len(b) + n - 1) / n
	var out [][]byte
	for len(b) > 0 {
		k := min(size, len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return out
}

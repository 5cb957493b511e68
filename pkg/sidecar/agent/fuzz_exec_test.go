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

// fuzzCallTimeout bounds one fuzzed call: every fuzzed command ends at
// once, so a call that takes this long is a hang.
const fuzzCallTimeout = 30 * time.Second

// FuzzExecute sends hostile ExecRequests (argv and env with NUL bytes, '='
// in names, invalid UTF-8, working directories anywhere, timeouts and grace
// periods negative or huge, output caps, background, tags, stdin) to a real
// agent that runs them. Whatever the input: a bad request is refused with
// InvalidArgument (Internal when it is not even valid protobuf), a good one
// runs and answers an exit status; a program that exists starts, one that
// does not reports 125-127; a long timeout never fires early; the output is
// exactly what the program wrote, capped; nothing is left running.
//
// Seeds: testdata/fuzz/FuzzExecute and the f.Add calls below. Run longer:
// go test -run '^$' -fuzz '^FuzzExecute$' -fuzztime 5m ./pkg/sidecar/agent
func FuzzExecute(f *testing.F) {
	bin := fuzzBin(f)
	ta := startAgent(f, func(c *agent.Config) {
		c.Env = []string{"PATH=" + bin}
		c.AllowedRoots = []string{c.Workspace}
		c.KillGrace = 100 * time.Millisecond
	})
	type seed struct {
		args, env, dir, tag string
		stdin               []byte
		hasStdin, bg        bool
		timeoutSec          int32
		timeoutMs, graceMs  int64
		maxOutput           int64
	}
	for _, s := range []seed{
		{args: "echo\nhello world"},
		{args: "true", env: "A\tb", tag: "t1", bg: true},
		{args: "cat-stdin", stdin: []byte("in\x00put\xff"), hasStdin: true, timeoutMs: 60000, maxOutput: 3},
		{args: ""},
		{args: "\nx"},
		{args: "echo\x00x"},
		{args: "echo\na\x00b"},
		{args: "echo", env: "A=B\tc"},
		{args: "echo", env: "\tv"},
		{args: "echo", env: "N\tv\x00"},
		{args: "no-such-command"},
		{args: "/usr/bin/id"},
		{args: "echo", dir: "../../.."},
		{args: "echo", dir: "/"},
		{args: "echo", dir: "does/not/exist"},
		{args: "echo", dir: "a\x00b"},
		{args: "false", timeoutSec: -1},
		{args: "true", timeoutMs: -5},
		{args: "true", graceMs: -1},
		{args: "true", maxOutput: -1},
		{args: "echo\n\xff\xfe"},
		{args: "echo", env: "\xff\t\xfe", tag: "\xc0"},
		{args: "true", timeoutSec: 1<<31 - 1},
		// Past what a time.Duration holds in nanoseconds.
		{args: "true", timeoutMs: 1<<63 - 1, graceMs: 1<<63 - 1},
		{args: "true", timeoutMs: 18446744073710},
		{args: "echo\n-n\nx", timeoutMs: 1},
		{args: "cat-stdin", hasStdin: true, bg: true, tag: "same"},
		// Huge: 20000 arguments; one argument past the kernel's 128 KiB.
		{args: "echo" + strings.Repeat("\nx", 20000)},
		{args: "echo\n" + strings.Repeat("a", 200<<10)},
	} {
		f.Add(s.args, s.env, s.dir, s.tag, s.stdin, s.hasStdin, s.bg, s.timeoutSec, s.timeoutMs, s.graceMs, s.maxOutput)
	}
	f.Fuzz(func(t *testing.T, args, env, dir, tag string, stdin []byte, hasStdin, bg bool, timeoutSec int32, timeoutMs, graceMs, maxOutput int64) {
		req := &agentv1.ExecRequest{
			Command:         fuzzArgv(args),
			Env:             fuzzEnv(env),
			WorkingDir:      dir,
			Tag:             tag,
			Background:      bg,
			TimeoutSeconds:  timeoutSec,
			TimeoutMillis:   timeoutMs,
			KillGraceMillis: graceMs,
			MaxOutputBytes:  maxOutput,
		}
		if hasStdin {
			req.Stdin = append([]byte{}, stdin...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), fuzzCallTimeout)
		defer cancel()

		if !validUTF8(append(append([]string{dir, tag}, req.Command...), envStrings(req.Env)...)...) {
			// Only a client that is not protobuf-go can send this, and the
			// server's protobuf decoding refuses it: gRPC's code for a
			// request that does not parse is Internal.
			err := invokeRaw(ctx, ta.Conn(), "/arl.agent.v1.AgentService/Execute", marshalLax(req.ProtoReflect()))
			wantCodeIn(t, "Execute with invalid UTF-8", err, codes.Internal)
			return
		}
		res, err := ta.Run(ctx, req)
		if !validCommand(req.Command, req.Env) || strings.ContainsRune(dir, 0) ||
			timeoutSec < 0 || timeoutMs < 0 || graceMs < 0 || maxOutput < 0 {
			wantCodeIn(t, "Execute of an invalid request", err, codes.InvalidArgument)
			return
		}
		if err != nil {
			t.Fatalf("Execute %q: %v", req.GetCommand(), err)
		}

		argv := req.Command
		workDir := ta.workspace
		if dir != "" {
			workDir = dir
			if !filepath.IsAbs(dir) {
				workDir = filepath.Join(ta.workspace, dir)
			}
		}
		// The agent resolves the directory lexically ("/x/.." is "/"
		// whether or not /x exists), as it resolves every path.
		st, statErr := os.Stat(filepath.Clean(workDir))
		// Beyond this the kernel may refuse the exec (E2BIG): 126.
		small := len(args)+len(env) < 64<<10
		wantStart := knownProgram(argv[0]) && statErr == nil && st.IsDir() && small
		switch {
		case !res.Started:
			if wantStart {
				t.Fatalf("%q in %q did not start: exit %d, stderr %q", argv, dir, res.ExitCode, res.Stderr)
			}
			if res.ExitCode < 125 || res.ExitCode > 127 || res.Pid != 0 {
				t.Fatalf("%q did not start but answered exit %d, pid %d", argv, res.ExitCode, res.Pid)
			}
			return
		case !wantStart && small:
			t.Fatalf("%q in %q started (pid %d): only %v can", argv, dir, res.Pid, fuzzPrograms)
		case res.Pid <= 0:
			t.Fatalf("%q started without a pid", argv)
		}

		// A timeout this long cannot fire while the program runs.
		longTimeout := (timeoutMs == 0 && (timeoutSec == 0 || timeoutSec >= 60)) || timeoutMs >= 60000
		want := expectedOutput(argv, req.Stdin)
		exit := int32(0)
		if argv[0] == "false" {
			exit = 1
		}
		if bg {
			if !res.Background {
				t.Fatalf("background %q answered %+v", argv, res.ExitStatus)
			}
			info := waitExited(ctx, t, ta, res.Pid)
			if longTimeout && (info.GetTimedOut() || info.GetExitCode() != exit) {
				t.Fatalf("background %q with timeout %ds/%dms ended %v", argv, timeoutSec, timeoutMs, info)
			}
		} else if longTimeout {
			if res.TimedOut || res.ExitCode != exit {
				t.Fatalf("%q with timeout %ds/%dms: exit %d, timed out %v; want exit %d", argv, timeoutSec, timeoutMs, res.ExitCode, res.TimedOut, exit)
			}
			limit := int64(agent.DefaultMaxOutputBytes)
			if maxOutput > 0 {
				limit = maxOutput
			}
			truncated := int64(len(want)) > limit
			if truncated {
				want = want[:limit]
			}
			if want != nil && (!bytes.Equal(res.Stdout, want) || res.StdoutTruncated != truncated) {
				t.Fatalf("%q wrote %q (truncated %v), want %q (truncated %v)", argv, res.Stdout, res.StdoutTruncated, want, truncated)
			}
			if len(res.Stderr) != 0 {
				t.Fatalf("%q wrote %q on stderr", argv, res.Stderr)
			}
		}
		// Nothing of the command is left: its process group is gone.
		if procutil.GroupExists(int(res.Pid)) {
			t.Fatalf("%q (pid %d) left processes behind: %v", argv, res.Pid, procutil.Cmdline(int(res.Pid)))
		}
	})
}

// expectedOutput is what a fuzz program writes on stdout; nil when it
// cannot be told (echo parses options).
func expectedOutput(argv []string, stdin []byte) []byte {
	switch argv[0] {
	case "echo":
		if len(argv) > 1 && strings.HasPrefix(argv[1], "-") {
			return nil
		}
		return []byte(strings.Join(argv[1:], " ") + "\n")
	case "cat-stdin":
		return append([]byte{}, stdin...)
	}
	return []byte{}
}

// waitExited waits until ListProcesses shows pid exited, and returns it.
func waitExited(ctx context.Context, t *testing.T, ta *testAgent, pid int32) *agentv1.ProcessInfo {
	t.Helper()
	for {
		list, err := ta.ListProcesses(ctx, &agentv1.ListProcessesRequest{})
		if err != nil {
			t.Fatalf("ListProcesses while waiting for %d: %v", pid, err)
		}
		// The list is in start order: the last entry with pid is this
		// run's (an earlier process may have had the same pid).
		var last *agentv1.ProcessInfo
		for _, p := range list.GetProcesses() {
			if p.GetPid() == pid {
				last = p
			}
		}
		if last.GetState() == agentv1.ProcessInfo_EXITED {
			return last
		}
		select {
		case <-ctx.Done():
			t.Fatalf("background process %d has not exited: %v", pid, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

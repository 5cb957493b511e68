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
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// testAgent is an agent served over a real unix socket in this process.
type testAgent struct {
	*client.Client
	agent     *agent.Agent
	workspace string
}

// startAgent serves an agent on a fresh socket. Unit tests do not reap
// orphans: the test binary is not PID 1 (test/integration/sidecar covers it).
func startAgent(t testing.TB, mutate func(*agent.Config)) *testAgent {
	t.Helper()
	// Unix socket paths are limited to 108 bytes: not under t.TempDir().
	sockDir, err := os.MkdirTemp("", "arl-agent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	cfg := agent.Config{Workspace: filepath.Join(t.TempDir(), "workspace")}
	if mutate != nil {
		mutate(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(sockDir, "agent.sock")
	lis, err := agent.ListenUnix(sock, 0o660, -1)
	if err != nil {
		t.Fatal(err)
	}
	srv := a.NewServer()
	go func() { _ = srv.Serve(lis) }()
	c, err := client.Dial(context.Background(), client.Target{Address: sock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := a.KillAll(ctx, 0); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		srv.Stop()
		a.Close()
	})
	return &testAgent{Client: c, agent: a, workspace: a.Workspace()}
}

// ctx bounds one call generously: a hang fails the test instead of the suite.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func (ta *testAgent) run(t *testing.T, req *agentv1.ExecRequest) *client.Result {
	t.Helper()
	res, err := ta.Run(ctx(t), req)
	if err != nil {
		t.Fatalf("Execute %q: %v", req.GetCommand(), err)
	}
	return res
}

func cmd(argv ...string) *agentv1.ExecRequest { return &agentv1.ExecRequest{Command: argv} }

func wantCode(t *testing.T, err error, code codes.Code) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got error %v, want code %v", err, code)
	}
}

// dead reports whether pid is gone or a zombie (killed, not yet reaped).
func dead(pid int) bool {
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return true
	}
	p, err := procutil.ReadProc(pid)
	return err != nil || p.State == 'Z'
}

// eventually checks cond every interval until it holds, for 20 seconds
// at most, and says whether it did.
func eventually(t *testing.T, interval time.Duration, cond func() bool) bool {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), interval, 20*time.Second, true, func(context.Context) (bool, error) {
		return cond(), nil
	})
	return err == nil
}

// waitDead waits (boundedly) until pid is dead.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	if !eventually(t, 10*time.Millisecond, func() bool { return dead(pid) }) {
		t.Fatalf("process %d (%v) is still alive", pid, procutil.Cmdline(pid))
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

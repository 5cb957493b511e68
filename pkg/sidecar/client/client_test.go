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

package client_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// serveAgent serves a real agent on a unix socket and returns the socket.
func serveAgent(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "arl-client-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	a, err := agent.New(agent.Config{Workspace: filepath.Join(dir, "ws")})
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	lis, err := agent.ListenUnix(sock, 0o660, -1)
	if err != nil {
		t.Fatal(err)
	}
	srv := a.NewServer()
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		a.Close()
	})
	return sock
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestPoolKeepsOneClientPerTargetUntilForgotten(t *testing.T) {
	sockA, sockB := serveAgent(t), serveAgent(t)
	p := client.NewPool()
	defer p.Close()
	a1, err := p.Get(ctx(t), client.Target{Address: sockA})
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := p.Get(ctx(t), client.Target{Address: sockA})
	b, _ := p.Get(ctx(t), client.Target{Address: "unix://" + sockB})
	if a1 != a2 || a1 == b || p.Len() != 2 {
		t.Fatalf("pool: same target gave distinct clients or distinct targets shared one (len %d)", p.Len())
	}
	if res, err := a1.Run(ctx(t), &agentv1.ExecRequest{Command: []string{"echo", "a"}}); err != nil || string(res.Stdout) != "a\n" {
		t.Fatalf("call through the pool: %v %v", res, err)
	}

	p.Forget(sockA)
	if p.Len() != 1 {
		t.Fatalf("len %d after Forget, want 1", p.Len())
	}
	if _, err := a1.Run(ctx(t), &agentv1.ExecRequest{Command: []string{"true"}}); status.Code(err) != codes.Canceled {
		t.Errorf("a forgotten client still works (%v): its connection must be closed", err)
	}
	a3, err := p.Get(ctx(t), client.Target{Address: sockA})
	if err != nil || a3 == a1 {
		t.Fatalf("Get after Forget: %v, same client %v", err, a3 == a1)
	}
	// A client closed behind the pool's back is replaced.
	a3.Close()
	if a4, _ := p.Get(ctx(t), client.Target{Address: sockA}); a4 == a3 {
		t.Error("the pool handed out a closed client")
	}
}

func TestDialRefusesPlaintextTCP(t *testing.T) {
	_, err := client.Dial(context.Background(), client.Target{Address: "10.0.0.1:50051"})
	if err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Fatalf("Dial without TLS to host:port: %v, want a refusal", err)
	}
	if _, err := client.Dial(context.Background(), client.Target{}); err == nil {
		t.Fatal("Dial of an empty target succeeded")
	}
}

func TestExecBackgroundAndStartFailure(t *testing.T) {
	c, err := client.Dial(context.Background(), client.Target{Address: serveAgent(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Exec(ctx(t), &agentv1.ExecRequest{Command: []string{"sleep", "1000"}, Background: true}, nil)
	if err != nil || !st.Background || !st.Started || st.Pid == 0 {
		t.Fatalf("background: %+v %v", st, err)
	}
	if _, err := c.Signal(ctx(t), &agentv1.SignalRequest{Pid: st.Pid, Signal: "KILL"}); err != nil {
		t.Fatal(err)
	}
	res, err := c.Run(ctx(t), &agentv1.ExecRequest{Command: []string{"no-such-command-arl"}})
	if err != nil || res.Started || res.ExitCode != 127 || !strings.Contains(string(res.Stderr), "not found") {
		t.Fatalf("missing command: %+v %v", res, err)
	}
}

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

package local

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/arl-infra/arl/pkg/pool"
)

// countingHealth is the standard gRPC health service, counting checks.
type countingHealth struct {
	*health.Server
	checks atomic.Int32
}

func (h *countingHealth) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	h.checks.Add(1)
	return h.Server.Check(ctx, req)
}

// readyPod is a pod whose agent is not up yet, and the gRPC health
// service its agent will answer with, not yet listening.
func readyPod(t *testing.T, r *Runtime) (*localPod, *countingHealth, func()) {
	t.Helper()
	m := meta{Namespace: "team-a", Name: "py-abcde", Version: 1, Pool: "py", State: pool.PodIdle, Created: time.Now()}
	dir := writePod(t, r, m)
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	lp := &localPod{meta: m, dir: dir, exited: make(chan struct{})}
	r.pods["team-a/py-abcde"] = lp
	healthServer := &countingHealth{Server: health.NewServer()}
	healthServer.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	listen := func() {
		l, err := net.Listen("unix", r.socketPath(lp))
		if err != nil {
			t.Fatal(err)
		}
		s := grpc.NewServer()
		healthpb.RegisterHealthServer(s, healthServer)
		go func() { _ = s.Serve(l) }()
		t.Cleanup(s.Stop)
	}
	return lp, healthServer, listen
}

// TestWaitReadyOnHealth: a pod turns Ready when its agent's socket exists
// and its health check says serving, not before, and is reported once.
func TestWaitReadyOnHealth(t *testing.T) {
	r := newTestRuntime(t)
	rec := newRecorder()
	r.onChange = rec.onChange
	lp, healthServer, listen := readyPod(t, r)
	done := make(chan struct{})
	go func() {
		r.waitReady(lp)
		close(done)
	}()
	listen()
	// Several checks answered not serving.
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return healthServer.checks.Load() >= 3, nil
	})
	if err != nil {
		t.Fatalf("the agent's health was not checked: %v", err)
	}
	if p, _ := r.Get("team-a", "py-abcde"); p.Ready {
		t.Fatal("Ready while the agent is not serving")
	}
	healthServer.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("waitReady did not end once the agent served")
	}
	if p, _ := r.Get("team-a", "py-abcde"); !p.Ready || p.Failed {
		t.Errorf("pod %+v, want Ready", p)
	}
	if changes := rec.all(); len(changes) != 1 || !changes[0].pod.Ready {
		t.Errorf("reported %+v, want Ready once", changes)
	}
}

// TestWaitReadyNotForEndedPods: a sandbox that exits before its agent
// listens, or is deleted before its agent serves, is never made Ready,
// and waitReady ends.
func TestWaitReadyNotForEndedPods(t *testing.T) {
	t.Run("exited before listening", func(t *testing.T) {
		r := newTestRuntime(t)
		lp, _, _ := readyPod(t, r)
		done := make(chan struct{})
		go func() {
			r.waitReady(lp)
			close(done)
		}()
		r.markExited(lp, nil)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("waitReady still waits for the socket of an exited sandbox")
		}
	})
	t.Run("deleted while starting", func(t *testing.T) {
		r := newTestRuntime(t)
		rec := newRecorder()
		r.onChange = rec.onChange
		lp, healthServer, listen := readyPod(t, r)
		listen()
		r.mu.Lock()
		lp.terminating = true
		r.mu.Unlock()
		healthServer.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		r.waitReady(lp)
		if p, _ := r.Get("team-a", "py-abcde"); p.Ready {
			t.Error("a terminating pod was made Ready")
		}
		if changes := rec.all(); len(changes) != 0 {
			t.Errorf("reported %+v for a terminating pod", changes)
		}
	})
}

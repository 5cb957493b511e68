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
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/arl-infra/arl/pkg/pool"
)

// newTestRuntime is a Runtime over a temporary pod directory, as New
// builds it for a server that is not root: no cgroups, no uids of its own.
// Tests that need no bubblewrap build it so; Create needs bubblewrap and
// is covered by the standalone integration suite.
func newTestRuntime(t *testing.T) *Runtime {
	t.Helper()
	return &Runtime{
		opts:     Options{Dir: t.TempDir()},
		nodeName: "test-node",
		pods:     map[string]*localPod{},
		uids:     map[int]bool{},
	}
}

// writePod leaves a pod directory with its pod.json, as a server that
// stopped leaves it.
func writePod(t *testing.T, r *Runtime, m meta) string {
	t.Helper()
	dir := filepath.Join(r.opts.Dir, m.Namespace, m.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := m.save(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startFakeSandbox runs a real process that sandboxAlive takes for a
// sandbox's agent: its command line holds "arl-sidecar agent". The shell
// waits on a builtin read (no child to orphan) until killed.
func startFakeSandbox(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("/bin/sh", "-c", "read line", "arl-sidecar", "agent")
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Reaped at once when it dies, so its pid leaves /proc as a real
	// sandbox's (not our child) would.
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return sandboxAlive(cmd.Process.Pid), nil
	})
	if err != nil {
		t.Fatalf("the fake sandbox's command line never showed: %v", err)
	}
	return cmd
}

// exitedPID is the pid of a process that has ended and been reaped.
func exitedPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// change is one onChange call.
type change struct {
	pod     *pool.Pod
	deleted bool
}

// recorder collects the runtime's onChange calls.
type recorder struct {
	mu      sync.Mutex
	changes []change
	// notify receives a value (without blocking) on every change.
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (c *recorder) onChange(p *pool.Pod, deleted bool) {
	c.mu.Lock()
	c.changes = append(c.changes, change{p, deleted})
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
}

func (c *recorder) all() []change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]change(nil), c.changes...)
}

// waitFor waits until a recorded change satisfies match.
func (c *recorder) waitFor(t *testing.T, what string, match func(change) bool) change {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		for _, ch := range c.all() {
			if match(ch) {
				return ch
			}
		}
		select {
		case <-c.notify:
		case <-timeout:
			t.Fatalf("no change %s; got %+v", what, c.all())
		}
	}
}

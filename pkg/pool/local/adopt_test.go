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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/arl-infra/arl/pkg/pool"
)

// TestRunAdoptsPodsAfterRestart: a restarted server takes over the pods
// the previous one left, with their state, marks those whose sandbox
// ended (or whose pid now belongs to another program) failed, and removes
// what never started. Sandboxes are real processes.
func TestRunAdoptsPodsAfterRestart(t *testing.T) {
	r := newTestRuntime(t)
	alive := startFakeSandbox(t)
	created := time.Now().Add(-time.Hour).Truncate(time.Second)
	pod := func(name string, pid int) meta {
		return meta{Namespace: "team-a", Name: name, UID: types.UID("uid-" + name), Version: 3, Pool: "py",
			State: pool.PodIdle, TemplateHash: "h1", Created: created, PID: pid}
	}
	claimed := pod("py-alive", alive.Process.Pid)
	claimed.State, claimed.Sandbox, claimed.ClaimedAt, claimed.HostUID = pool.PodAllocated, "sb-1", created.Add(time.Minute), 1_000_000_007
	writePod(t, r, claimed)
	dead := pod("py-dead", exitedPID(t))
	deadDir := writePod(t, r, dead)
	if err := os.WriteFile(filepath.Join(deadDir, "agent.log"), []byte("agent: out of memory\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The pid was reused: the test itself is not a sandbox's agent.
	writePod(t, r, pod("py-reused", os.Getpid()))
	neverStarted := writePod(t, r, pod("py-unstarted", 0))
	corrupt := filepath.Join(r.opts.Dir, "team-a", "py-corrupt")
	if err := os.MkdirAll(corrupt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(corrupt, "pod.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	noJSON := filepath.Join(r.opts.Dir, "team-b", "py-nojson")
	if err := os.MkdirAll(noJSON, 0o700); err != nil {
		t.Fatal(err)
	}
	// Files beside the namespaces (the cgroups list) are not pods.
	if err := os.WriteFile(filepath.Join(r.opts.Dir, CgroupsFile), []byte("/sys/fs/cgroup/arl/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- r.Run(ctx, rec.onChange) }()
	rec.waitFor(t, "for the adopted pods", func(change) bool { return r.HasSynced() })
	// Every adopted pod is reported once synced, as an informer's initial list.
	rec.waitFor(t, "reporting py-alive", func(c change) bool { return c.pod.Name == "py-alive" })

	for _, gone := range []string{neverStarted, corrupt, noJSON} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s was not removed: %v", gone, err)
		}
	}
	if _, err := os.Stat(filepath.Join(r.opts.Dir, CgroupsFile)); err != nil {
		t.Errorf("the cgroups list was touched: %v", err)
	}
	names := map[string]bool{}
	for _, p := range r.ListAll() {
		names[p.Name] = true
	}
	if len(names) != 3 || !names["py-alive"] || !names["py-dead"] || !names["py-reused"] {
		t.Fatalf("adopted %v, want py-alive, py-dead and py-reused", names)
	}

	got, ok := r.Get("team-a", "py-alive")
	if !ok {
		t.Fatal("py-alive not adopted")
	}
	if got.Failed || got.Terminating || got.State != pool.PodAllocated || got.Sandbox != "sb-1" || got.Version != "3" ||
		!got.ClaimedAt.Equal(claimed.ClaimedAt) || got.Node != "test-node" || got.TemplateHash != "h1" {
		t.Errorf("py-alive adopted as %+v, want it as pod.json left it", got)
	}
	r.mu.Lock()
	uidTaken := r.uids[claimed.HostUID]
	r.mu.Unlock()
	if !uidTaken {
		t.Errorf("the adopted sandbox's uid %d may be given to another", claimed.HostUID)
	}
	for _, name := range []string{"py-dead", "py-reused"} {
		p, _ := r.Get("team-a", name)
		if !p.Failed || p.Ready || p.FailureReason != "SandboxExited" || !strings.Contains(p.FailureMessage, "while arl-apiserver was not running") {
			t.Errorf("%s adopted as %+v, want it failed: its sandbox ended", name, p)
		}
	}
	if p, _ := r.Get("team-a", "py-dead"); !strings.Contains(p.FailureMessage, "agent: out of memory") {
		t.Errorf("py-dead's failure lacks its agent's last words: %q", p.FailureMessage)
	}

	// The adopted sandbox is not our child: its end is still noticed.
	if err := alive.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	c := rec.waitFor(t, "failing py-alive", func(c change) bool { return c.pod.Name == "py-alive" && c.pod.Failed })
	if !strings.Contains(c.pod.FailureMessage, "the sandbox's agent exited") {
		t.Errorf("py-alive failed with %q", c.pod.FailureMessage)
	}

	cancel()
	if err := <-runDone; err != nil {
		t.Errorf("Run: %v", err)
	}
}

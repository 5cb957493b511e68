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
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/arl-infra/arl/pkg/pool"
)

// TestDeleteKillsAndForgets: Delete kills the sandbox (a real process),
// reports the pod terminating then deleted but never failed (its end was
// asked for), frees its uid and removes its files.
func TestDeleteKillsAndForgets(t *testing.T) {
	r := newTestRuntime(t)
	sandbox := startFakeSandbox(t)
	m := meta{Namespace: "team-a", Name: "py-abcde", Version: 1, Pool: "py", State: pool.PodIdle,
		PID: sandbox.Process.Pid, HostUID: 1_000_000_001, Created: time.Now()}
	dir := writePod(t, r, m)
	rec := newRecorder()
	r.onChange = rec.onChange
	// Adopted, so that its end is seen only by watching its pid, as for a
	// sandbox a previous server started.
	r.adopt(context.Background())
	p, ok := r.Get("team-a", "py-abcde")
	if !ok || p.Failed {
		t.Fatalf("the sandbox was not adopted alive: %+v", p)
	}

	if err := r.Delete(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if sandboxAlive(m.PID) {
		t.Error("the sandbox still runs")
	}
	if _, ok := r.Get("team-a", "py-abcde"); ok {
		t.Error("the pod is still listed")
	}
	if r.uids[m.HostUID] {
		t.Error("the sandbox's uid is still reserved")
	}
	if _, err := os.Stat(filepath.Join(dir, "pod.json")); !os.IsNotExist(err) {
		t.Errorf("pod.json outlived Delete (a restart would adopt the pod): %v", err)
	}
	changes := rec.all()
	if len(changes) != 2 || !changes[0].pod.Terminating || changes[0].deleted || !changes[1].deleted {
		t.Fatalf("reported %+v, want terminating then deleted", changes)
	}
	for _, c := range changes {
		if c.pod.Failed || c.pod.Ready {
			t.Errorf("a deleted pod was reported failed or ready: %+v", c.pod)
		}
	}
	// The rest of the directory goes in the background.
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		_, err := os.Stat(dir)
		return os.IsNotExist(err), nil
	})
	if err != nil {
		t.Errorf("the pod directory was not removed: %v", err)
	}

	if err := r.Delete(context.Background(), p); err != nil {
		t.Errorf("deleting a deleted pod: %v", err)
	}
}

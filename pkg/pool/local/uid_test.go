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
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// TestAllocateUID: a root server gives each sandbox the lowest uid of its
// block no live or adopted sandbox holds, and takes it back when the
// sandbox goes; sandboxes of a server that is not root share its uid.
func TestAllocateUID(t *testing.T) {
	r := newTestRuntime(t)
	if uid := r.allocateUID(); uid != 0 || len(r.uids) != 0 {
		t.Fatalf("unprivileged: uid %d, reserved %v; want 0 and none", uid, r.uids)
	}

	r.privileged, r.firstUID = true, 5000
	// Sandboxes adopted after a restart hold theirs.
	r.uids[5000], r.uids[5002] = true, true
	var got []int
	for range 3 {
		got = append(got, r.allocateUID())
	}
	if want := []int{5001, 5003, 5004}; !slices.Equal(got, want) {
		t.Fatalf("allocated %v, want %v", got, want)
	}
	// A Create that failed gives its uid back.
	r.discard(&localPod{dir: filepath.Join(r.opts.Dir, "team-a", "py-failed"), meta: meta{HostUID: 5001}})
	if uid := r.allocateUID(); uid != 5001 {
		t.Errorf("after a failed Create freed 5001: allocated %d", uid)
	}
}

// TestAllocateUIDConcurrent: Creates run in parallel; no two sandboxes
// may get the same uid.
func TestAllocateUIDConcurrent(t *testing.T) {
	r := newTestRuntime(t)
	r.privileged, r.firstUID = true, 7000
	const n = 64
	uids := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { uids <- r.allocateUID() })
	}
	wg.Wait()
	close(uids)
	seen := map[int]bool{}
	for uid := range uids {
		if seen[uid] || uid < 7000 || uid >= 7000+n {
			t.Errorf("uid %d given twice or outside the %d lowest", uid, n)
		}
		seen[uid] = true
	}
}

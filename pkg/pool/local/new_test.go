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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// newForTest runs New on dir with a stand-in sidecar binary, and removes
// the cgroups a root server makes for it.
func newForTest(t *testing.T, dir string, firstUID int) *Runtime {
	t.Helper()
	sidecar := filepath.Join(t.TempDir(), "arl-sidecar")
	if err := os.WriteFile(sidecar, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Dir: dir, SidecarBinary: sidecar, FirstUID: firstUID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := DestroyAll(r.opts.Dir); err != nil {
			t.Errorf("removing the test's cgroups: %v", err)
		}
	})
	return r
}

// TestNewUIDBlock: each pod directory's sandboxes take uids from a block
// of their own, chosen from the directory's path: the same after a
// restart (adopted sandboxes keep theirs), another for most other
// directories (two servers rarely share a uid).
func TestNewUIDBlock(t *testing.T) {
	if _, err := os.Stat("/usr/bin/bwrap"); err != nil {
		t.Skip("New needs bubblewrap")
	}
	root := t.TempDir()
	const first = 2_000_000_000
	bases := map[int]bool{}
	for i := range 8 {
		dir := filepath.Join(root, "pods-"+strconv.Itoa(i))
		r := newForTest(t, dir, first)
		offset := r.firstUID - first
		if offset < 0 || offset >= uidBlocks*uidBlock || offset%uidBlock != 0 {
			t.Fatalf("%s: first uid %d is not the start of one of the %d blocks after %d", dir, r.firstUID, uidBlocks, first)
		}
		if again := newForTest(t, dir, first); again.firstUID != r.firstUID {
			t.Errorf("%s: restarted with first uid %d, was %d", dir, again.firstUID, r.firstUID)
		}
		bases[r.firstUID] = true
	}
	// Eight directories in one block: one chance in 2^84.
	if len(bases) < 2 {
		t.Errorf("eight pod directories share the uid block %v", bases)
	}
	if r := newForTest(t, filepath.Join(root, "default"), 0); r.firstUID < DefaultFirstUID || r.firstUID >= DefaultFirstUID+uidBlocks*uidBlock {
		t.Errorf("without FirstUID: first uid %d, want one from %d on", r.firstUID, DefaultFirstUID)
	}
}

// TestNewRefusesWhatItNeeds: without bubblewrap or the sidecar the local
// runtime cannot start a sandbox, and says what is missing.
func TestNewRefusesWhatItNeeds(t *testing.T) {
	sidecar := filepath.Join(t.TempDir(), "arl-sidecar")
	if err := os.WriteFile(sidecar, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"no bubblewrap", Options{Bwrap: "/nonexistent/bwrap", SidecarBinary: sidecar}, "needs bubblewrap"},
		{"no sidecar", Options{Bwrap: "/bin/true", SidecarBinary: "/nonexistent/arl-sidecar"}, "needs the arl-sidecar binary"},
	} {
		c.opts.Dir = filepath.Join(t.TempDir(), "pods")
		if _, err := New(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
		if _, err := os.Stat(c.opts.Dir); !os.IsNotExist(err) {
			t.Errorf("%s: the pod directory was made: %v", c.name, err)
		}
	}
}

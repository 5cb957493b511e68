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

package install

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestCopyIsAtomicAndExecutable(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	content := bytes.Repeat([]byte("binary"), 100000)
	if err := os.WriteFile(src, content, 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "shared/.arl/bin/arl-sidecar")
	for range 2 { // the second copy replaces the first
		if err := Copy(src, dest); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("dest holds %d bytes (%v), want %d", len(got), err, len(content))
	}
	st, _ := os.Stat(dest)
	if st.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(dest))
	if len(entries) != 1 {
		t.Errorf("%d entries beside the binary, want none (no temporary file left)", len(entries)-1)
	}
	if err := Copy(filepath.Join(dir, "missing"), dest); err == nil {
		t.Error("copying a missing file succeeded")
	}
}

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
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/arl-infra/arl/pkg/pool"
)

// TestMetaRoundTrip: pod.json holds everything a restarted server needs
// to adopt the pod as it was, and is replaced whole on every save (no
// temporary file stays behind for adopt to trip on).
func TestMetaRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := meta{
		Namespace: "team-a", Name: "py-abcde", UID: "1f0e", Version: 1, Pool: "py",
		State: pool.PodIdle, TemplateHash: "h1", Created: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), PID: 4242, HostUID: 1_000_065_536,
	}
	if err := m.save(dir); err != nil {
		t.Fatal(err)
	}
	m.Version, m.State, m.Sandbox, m.ClaimedAt = 2, pool.PodAllocated, "sb-1", time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	if err := m.save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := loadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, *got); diff != "" {
		t.Errorf("pod.json read back differs (-saved +loaded):\n%s", diff)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "pod.json" {
		t.Errorf("pod directory holds %v, want only pod.json", entries)
	}
}

// TestLoadMetaErrors: a pod directory without a readable pod.json is an
// error adopt acts on, and a corrupt one says which file.
func TestLoadMetaErrors(t *testing.T) {
	missing := t.TempDir()
	if _, err := loadMeta(missing); !os.IsNotExist(err) {
		t.Errorf("no pod.json: %v, want not-exist", err)
	}
	corrupt := t.TempDir()
	if err := os.WriteFile(filepath.Join(corrupt, "pod.json"), []byte(`{"name":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadMeta(corrupt); err == nil || !strings.Contains(err.Error(), filepath.Join(corrupt, "pod.json")) {
		t.Errorf("corrupt pod.json: %v, want an error naming the file", err)
	}
}

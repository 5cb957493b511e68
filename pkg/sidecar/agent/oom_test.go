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

package agent

import (
	"os"
	"path/filepath"
	"testing"
)

func TestOOMKills(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct {
		content string
		want    int64
	}{
		"v2 memory.events":      {"low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n", 2},
		"v1 memory.oom_control": {"oom_kill_disable 0\nunder_oom 0\noom_kill 7\n", 7},
		"v1 before kernel 4.13": {"oom_kill_disable 0\nunder_oom 0\n", -1},
		"not a counter":         {"oom_kill many\n", -1},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := oomKills(path); got != c.want {
			t.Errorf("%s: %d, want %d", name, got, c.want)
		}
	}
	if got := oomKills(""); got != -1 {
		t.Errorf("no file: %d", got)
	}
	if got := oomKills(filepath.Join(dir, "missing")); got != -1 {
		t.Errorf("missing file: %d", got)
	}
}

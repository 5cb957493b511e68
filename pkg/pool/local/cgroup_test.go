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

	"github.com/google/go-cmp/cmp"
)

// TestCgroupHierarchies: which hierarchies sandboxes' cgroups go in, from
// mountinfo tables of the kinds of hosts ARL runs on. The cgroup2 mounts'
// cgroup.controllers files are written to a temporary directory standing
// in for /sys/fs/cgroup.
func TestCgroupHierarchies(t *testing.T) {
	root := t.TempDir()
	v2Full := filepath.Join(root, "v2full")
	v2Empty := filepath.Join(root, "unified")
	for dir, controllers := range map[string]string{v2Full: "cpuset cpu io memory hugetlb pids rdma misc", v2Empty: "hugetlb"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.controllers"), []byte(controllers+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	line := func(id int, mountpoint, fstype, super string) string {
		return strings.Join([]string{"1", "2", "0:1", "/", mountpoint, "rw,nosuid - " + fstype + " " + fstype + " " + super}, " ")
	}
	cases := []struct {
		name      string
		mountinfo []string
		wantV2    bool
		want      []string
		wantErr   bool
	}{{
		name:      "cgroup v2 with every controller",
		mountinfo: []string{line(1, "/", "ext4", "rw"), line(2, v2Full, "cgroup2", "rw,nsdelegate")},
		wantV2:    true,
		want:      []string{filepath.Join(v2Full, "arl/x")},
	}, {
		name: "hybrid v1 (this machine): the unified mount lacks memory and pids",
		mountinfo: []string{
			line(1, v2Empty, "cgroup2", "rw"),
			line(2, "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "rw,cpu,cpuacct"),
			line(3, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
			line(4, "/sys/fs/cgroup/pids", "cgroup", "rw,pids"),
		},
		want: []string{"/sys/fs/cgroup/memory/arl/x", "/sys/fs/cgroup/pids/arl/x", "/sys/fs/cgroup/cpu,cpuacct/arl/x"},
	}, {
		name:      "v1 without cpu: memory and pids only",
		mountinfo: []string{line(3, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"), line(4, "/sys/fs/cgroup/pids", "cgroup", "rw,pids")},
		want:      []string{"/sys/fs/cgroup/memory/arl/x", "/sys/fs/cgroup/pids/arl/x"},
	}, {
		name:      "no pids controller anywhere",
		mountinfo: []string{line(3, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"), line(2, v2Empty, "cgroup2", "rw")},
		wantErr:   true,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mounts := parseCgroupMounts([]byte(strings.Join(c.mountinfo, "\n")))
			v2, parents, err := pickHierarchies(mounts, "arl/x")
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if v2 != c.wantV2 {
				t.Errorf("v2 = %v, want %v", v2, c.wantV2)
			}
			if diff := cmp.Diff(c.want, parents); diff != "" {
				t.Errorf("parents (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCgroupLimitFiles: the control files and values that set the limits.
func TestCgroupLimitFiles(t *testing.T) {
	l := Limits{MemoryBytes: 256 << 20, CPUMillis: 1500, PIDs: 512}
	v1 := &cgroups{parents: []string{"/m/arl", "/p/arl", "/c/arl"}}
	if diff := cmp.Diff(map[string]string{
		"/m/arl/sb/memory.limit_in_bytes": "268435456",
		"/p/arl/sb/pids.max":              "512",
		"/c/arl/sb/cpu.cfs_period_us":     "100000",
		"/c/arl/sb/cpu.cfs_quota_us":      "150000",
	}, v1.limitFiles("sb", l)); diff != "" {
		t.Errorf("v1 (-want +got):\n%s", diff)
	}
	if got := v1.limitFiles("sb", Limits{}); len(got) != 0 {
		t.Errorf("no limits wrote %v", got)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sb"), 0o755); err != nil {
		t.Fatal(err)
	}
	// cpu.max exists only where the cpu controller is delegated.
	if err := os.WriteFile(filepath.Join(dir, "sb", "cpu.max"), []byte("max 100000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v2 := &cgroups{v2: true, parents: []string{dir}}
	if diff := cmp.Diff(map[string]string{
		filepath.Join(dir, "sb/memory.max"):      "268435456",
		filepath.Join(dir, "sb/memory.swap.max"): "0",
		filepath.Join(dir, "sb/pids.max"):        "512",
		filepath.Join(dir, "sb/cpu.max"):         "150000 100000",
	}, v2.limitFiles("sb", l)); diff != "" {
		t.Errorf("v2 (-want +got):\n%s", diff)
	}
	if got, want := v1.oomEvents("sb"), "/m/arl/sb/memory.oom_control"; got != want {
		t.Errorf("v1 OOM counter %s, want %s", got, want)
	}
	if got, want := v2.oomEvents("sb"), filepath.Join(dir, "sb/memory.events"); got != want {
		t.Errorf("v2 OOM counter %s, want %s", got, want)
	}
}

func TestUnescapeMountPath(t *testing.T) {
	if got := unescapeMountPath(`/mnt/with\040space`); got != "/mnt/with space" {
		t.Errorf("got %q", got)
	}
}

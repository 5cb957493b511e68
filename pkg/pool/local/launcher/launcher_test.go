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

package launcher

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArgsRoundTrip(t *testing.T) {
	spec := &Spec{
		UID: 1000000007, GID: 1000000007,
		Cgroups: []string{"/sys/fs/cgroup/memory/arl/x/sb/cgroup.procs", "/sys/fs/cgroup/pids/arl/x/sb/cgroup.procs"},
		Stage:   map[string]string{"workspace": "/data/pods/default/sb/workspace", "arl-sidecar": "/opt/arl/bin/arl-sidecar"},
		Command: []string{"/usr/bin/bwrap", "--unshare-user", "--", "/.arl/bin/arl-sidecar", "agent", "--uid", "0"},
	}
	args := spec.Args()
	if args[0] != "launch" {
		t.Fatalf("args start with %q", args[0])
	}
	got, err := Parse(args[1:])
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(spec, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseRefuses(t *testing.T) {
	for name, args := range map[string][]string{
		"root":               {"--uid", "0", "--gid", "0", "--", "/usr/bin/bwrap"},
		"no uid":             {"--gid", "5", "--", "/usr/bin/bwrap"},
		"no command":         {"--uid", "5", "--gid", "5", "--"},
		"stage not a name":   {"--uid", "5", "--gid", "5", "--stage", "a/b=/x", "--", "/usr/bin/bwrap"},
		"stage relative":     {"--uid", "5", "--gid", "5", "--stage", "a=x", "--", "/usr/bin/bwrap"},
		"unknown flag":       {"--uid", "5", "--gid", "5", "--privileged", "yes", "--", "/usr/bin/bwrap"},
		"flag with no value": {"--uid"},
	} {
		if _, err := Parse(args); err == nil {
			t.Errorf("%s: %v was accepted", name, args)
		}
	}
}

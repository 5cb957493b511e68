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
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// TestBwrapArgs: the confinement every sandbox gets, whatever its template.
func TestBwrapArgs(t *testing.T) {
	executor := &corev1.Container{
		Name: arl.ExecutorContainerName, Command: []string{"sleep"}, Args: []string{"infinity"},
		Env: []corev1.EnvVar{{Name: "APP_ENV", Value: "prod"}, {Name: "FROM_SECRET", ValueFrom: &corev1.EnvVarSource{}}},
	}
	src := sandboxSources{workspace: "/stage/ws", tmp: "/stage/tmp", run: "/stage/run", sidecar: "/stage/arl-sidecar", oomEvents: "/cg/memory.oom_control"}
	args := bwrapArgs("pool-abcde", src, executor, []string{"/data"})
	joined := " " + strings.Join(args, " ") + " "
	for _, want := range []string{
		// An unprivileged user namespace that cannot make another one.
		" --unshare-user --uid 0 --gid 0 --disable-userns --cap-drop ALL ",
		" --unshare-pid --unshare-net --unshare-ipc --unshare-uts ",
		" --seccomp 4 ", " --info-fd 3 ",
		// The data directory covered read-only, not merely unreadable.
		" --tmpfs /data --remount-ro /data ",
		" --bind /stage/ws /workspace ", " --bind /stage/tmp /tmp ", " --bind /stage/run /run/arl ",
		" --ro-bind /stage/arl-sidecar /.arl/bin/arl-sidecar ",
		" --ro-bind /cg/memory.oom_control /.arl/oom-events ",
		" --setenv APP_ENV prod ",
		" --socket-mode 0600 ", " --oom-events /.arl/oom-events ",
		" -- sleep infinity ",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("bubblewrap arguments lack %q:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "FROM_SECRET") {
		t.Errorf("an env var from a source was passed: %s", joined)
	}
	// Nothing of the host's kernel interfaces or scratch is bound.
	for i, a := range args {
		if (a == "--bind" || a == "--ro-bind") && i+1 < len(args) {
			for _, hidden := range []string{"/proc", "/sys", "/dev", "/tmp", "/run"} {
				if args[i+1] == hidden {
					t.Errorf("the host's %s is bound into the sandbox", hidden)
				}
			}
		}
	}
	noCgroup := bwrapArgs("pool-abcde", sandboxSources{workspace: "w", tmp: "t", run: "r", sidecar: "s"}, &corev1.Container{Name: arl.ExecutorContainerName}, nil)
	if slices.Contains(noCgroup, "--oom-events") || slices.Contains(noCgroup, "/.arl/oom-events") {
		t.Errorf("no cgroup, yet an OOM counter: %v", noCgroup)
	}
	if noCgroup[len(noCgroup)-1] != "/workspace" {
		t.Errorf("a container without a command must not pass one: %v", noCgroup[len(noCgroup)-4:])
	}
}

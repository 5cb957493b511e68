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

package security

import (
	_ "embed"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool/local"
	"github.com/arl-infra/arl/test/integration/framework"
)

//go:embed probe.py
var probe string

// The attacks probe.py must report; a probe that stops early fails the test.
var attacks = []string{
	"capabilities", "new_privileges", "no_seccomp",
	"remount_rw /usr", "remount_rw /", "host_write", "mount_tmpfs", "umount_data_dir_cover",
	"data_dir_listing", "read pki/ca.key", "read pki/serving.key", "read pki/admin.key", "read kubeconfig", "data_dir_write",
	"other_sandbox_socket", "other_sandbox_socket_via_proc", "foreign_processes_visible",
	"unshare_user_namespace", "unshare_mount_namespace", "ptrace_pid1",
	"syscall keyctl", "syscall add_key", "syscall open_by_handle_at", "syscall init_module", "syscall bpf",
	"syscall setns", "syscall kexec_load", "reach_api_server",
}

// TestEscapes runs the hostile probe in one sandbox while another runs
// beside it. The server's data directory is where a sandbox's uid could
// reach it, so it must be kept out of the sandbox's mount namespace, not
// only behind permissions.
func TestEscapes(t *testing.T) {
	requireRoot(t)
	base, err := os.MkdirTemp("/var/tmp", "arl-security-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	dataDir, target := filepath.Join(base, "data"), filepath.Join(base, "target")
	for _, dir := range []string{dataDir, target} {
		// Searchable by anyone, writable by root only: what a sandbox's
		// root, were it the host's, could write.
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	server := framework.StartStandaloneAt(t, dataDir)
	e := newEnv(t, server)
	e.pool(2)
	attacker, victim := e.sandbox("attacker"), e.sandbox("victim")

	probeArgs, _ := json.Marshal(map[string]any{
		"data_dir":        dataDir,
		"host_target_dir": target,
		"other_socket":    strings.TrimPrefix(victim.Status.PodIP, "unix://"),
		"server_port":     server.Port,
	})
	done := e.exec(newTask("probe", "attacker", 2*time.Minute,
		arlv1alpha1.TaskStep{Name: "write-probe", Type: arlv1alpha1.StepFilePatch, Path: "/workspace/probe.py", Content: probe},
		arlv1alpha1.TaskStep{Name: "attack", Type: arlv1alpha1.StepCommand, Command: []string{"python3", "/workspace/probe.py", string(probeArgs)}},
	))
	if done.Status.State != arlv1alpha1.TaskSucceeded {
		t.Fatalf("the probe did not run to its end: %s (%s)\nstdout: %s\nstderr: %s", done.Status.State, reason(done), done.Status.Stdout, done.Status.Stderr)
	}
	var results map[string]struct {
		Escaped bool   `json:"escaped"`
		Detail  string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(done.Status.Stdout), &results); err != nil {
		t.Fatalf("probe output: %v\n%s\nstderr: %s", err, done.Status.Stdout, done.Status.Stderr)
	}
	names := make([]string, 0, len(results))
	for name := range results {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := results[name]
		control := strings.HasPrefix(name, "control_")
		switch {
		case control && !r.Escaped:
			t.Errorf("control %s failed (%s): the probe cannot tell a blocked attack from a broken probe", name, r.Detail)
		case !control && r.Escaped:
			t.Errorf("ESCAPE: %s: %s", name, r.Detail)
		case control:
			t.Logf("%-32s works: %s", name, r.Detail)
		default:
			t.Logf("%-32s held: %s", name, r.Detail)
		}
	}
	for _, name := range attacks {
		if _, ok := results[name]; !ok {
			t.Errorf("the probe did not report attack %q", name)
		}
	}
	// The data directory is not in the sandbox's mount namespace: in its
	// place is an empty, read-only tmpfs.
	if d := results["data_dir_listing"].Detail; d != "[]" {
		t.Errorf("the data directory's place in the sandbox should be empty, got %s", d)
	}
	// Nothing reached the host.
	for _, path := range []string{filepath.Join(target, "escaped-by-remount"), filepath.Join(dataDir, "planted")} {
		if _, err := os.Stat(path); err == nil {
			t.Errorf("ESCAPE: %s exists on the host", path)
		}
	}
	// Outside, the sandbox is an unprivileged uid of its own.
	onDisk := pods(t, dataDir)
	a, v := onDisk[attacker.Status.PodName], onDisk[victim.Status.PodName]
	for _, p := range []localPod{a, v} {
		uid, err := hostUID(p.PID)
		if err != nil {
			t.Fatalf("pod %s: %v", p.Name, err)
		}
		if uid < local.DefaultFirstUID || uid != p.HostUID {
			t.Errorf("pod %s's agent runs as host uid %d, want its own unprivileged uid %d", p.Name, uid, p.HostUID)
		}
	}
	if a.HostUID == v.HostUID {
		t.Errorf("two sandboxes share host uid %d", a.HostUID)
	}
}

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

package sidecar

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

var pidNamespace = []string{"unshare", "--pid", "--fork", "--mount-proc", "--kill-child"}

func requirePIDNamespace(t *testing.T) {
	t.Helper()
	out, err := exec.Command(pidNamespace[0], append(pidNamespace[1:], "true")...).CombinedOutput()
	if err != nil {
		t.Skipf("skipping: this machine does not allow %q (%v: %s); the agent-as-PID-1 test needs a PID namespace", strings.Join(pidNamespace, " "), err, out)
	}
}

// TestAgentAsPID1 runs the agent as a pod runs it: PID 1 of its own PID
// namespace, wrapping the container's command. As PID 1 it inherits every
// orphan of the namespace and must reap them all, without stealing the
// exit status of the commands it runs.
func TestAgentAsPID1(t *testing.T) {
	requirePIDNamespace(t)
	a := startAgent(t, nil, pidNamespace, []string{"--", "sleep", "infinity"})
	var agentPid int
	for _, p := range descendants(t, a.cmd.Process.Pid) {
		if strings.Contains(strings.Join(procutil.Cmdline(p.Pid), " "), "arl-sidecar agent") {
			agentPid = p.Pid
		}
	}
	if agentPid == 0 {
		t.Fatal("the agent process is not found under unshare")
	}

	res, err := a.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; echo $$"}})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(res.Stdout)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "arl-sidecar agent") || atoi(t, lines[1]) > 100 {
		t.Fatalf("inside the namespace: %q; want PID 1 to be the agent and a small pid", res.Stdout)
	}

	// Every command orphans a subshell that exits soon after (reparented
	// to PID 1); each command must still get its own exit code.
	var wg sync.WaitGroup
	errs := make(chan error, 24)
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := a.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"sh", "-c", fmt.Sprintf("(sleep 0.0%d; exit 99) & exit %d", i%10, i)}})
			if err != nil {
				errs <- err
			} else if res.ExitCode != int32(i) {
				errs <- fmt.Errorf("command %d got exit code %d", i, res.ExitCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	onlyMain := func() bool {
		d := descendants(t, agentPid)
		return len(d) == 1 && d[0].State != 'Z' && procutil.Cmdline(d[0].Pid)[0] == "sleep"
	}
	eventually(t, onlyMain, func() string {
		return fmt.Sprintf("zombies or strays under PID 1: %+v", descendants(t, agentPid))
	})

	// Reset leaves the main command alone in the namespace.
	for _, argv := range [][]string{
		{"sh", "-c", "sleep 1000 & sleep 1000 & wait"},
		{"sh", "-c", "trap '' TERM; setsid sleep 1000 & wait"},
	} {
		if _, err := a.Run(callCtx(t), &agentv1.ExecRequest{Command: argv, Background: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"sh", "-c", "nohup sleep 1000 >/dev/null 2>&1 &"}}); err != nil {
		t.Fatal(err)
	}
	resp, err := a.Reset(callCtx(t), &agentv1.ResetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetKilled()) < 6 {
		t.Errorf("killed %v, want at least the 6 processes started (2 sh, 4 sleep)", resp.GetKilled())
	}
	if !onlyMain() {
		t.Errorf("after reset: %+v, want the main command alone", descendants(t, agentPid))
	}

	// SIGTERM to PID 1 goes to the main command; its end ends the namespace.
	if err := syscall.Kill(agentPid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := a.exitCode(); code != 128+15 {
		t.Errorf("exit code %d, want 143: the main command ended by the forwarded SIGTERM", code)
	}
}

// TestResetKeepsAMountedWorkspace: in a pod the workspace is a volume's
// mount point; Reset empties it and must not try to remove it (upstream's
// RemoveAll of the mount point failed with EBUSY).
func TestResetKeepsAMountedWorkspace(t *testing.T) {
	requirePIDNamespace(t)
	dir := tempDir(t)
	ws := dir + "/workspace"
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	// In the agent's own mount namespace: the host never sees the tmpfs.
	wrap := append(append([]string{}, pidNamespace...), "sh", "-c", `mount -t tmpfs arl-ws "$0" && exec "$@"`, ws)
	a := startAgent(t, nil, wrap, []string{"--workspace", ws})
	if _, err := a.UpdateFiles(callCtx(t), &agentv1.FileRequest{CreateParents: true, Files: []*agentv1.File{
		{Path: "a/b/c.txt", Content: []byte("x")}, {Path: "d.txt", Content: []byte("y")},
	}}); err != nil {
		t.Fatal(err)
	}
	resp, err := a.Reset(callCtx(t), &agentv1.ResetRequest{})
	if err != nil {
		t.Fatalf("reset of a mounted workspace: %v", err)
	}
	if len(resp.GetRemoved()) != 2 {
		t.Errorf("removed %v, want a and d.txt", resp.GetRemoved())
	}
	res, err := a.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"sh", "-c", `grep -c " $0 tmpfs" /proc/mounts; ls -A "$0" | wc -l`, ws}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(res.Stdout)); len(got) != 2 || got[0] != "1" || got[1] != "0" {
		t.Fatalf("mounts of the workspace and entries left: %q, want 1 and 0", res.Stdout)
	}
}

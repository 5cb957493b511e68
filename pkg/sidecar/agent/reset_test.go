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

package agent_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

func TestResetKillsEverythingAndEmptiesTheWorkspace(t *testing.T) {
	ta := startAgent(t, nil)
	// Background commands with grandchildren, one that ignores SIGTERM and
	// one grandchild that outlived its parent.
	bg := ta.run(t, &agentv1.ExecRequest{Command: []string{"sh", "-c", "trap '' TERM; sleep 1000 & sleep 1000 & wait"}, Background: true, Tag: "a"})
	orphan := atoi(t, string(ta.run(t, cmd("sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!")).Stdout))
	// A foreground command still running.
	fgDone := make(chan error, 1)
	go func() {
		_, err := ta.Run(ctx(t), cmd("sleep", "1000"))
		fgDone <- err
	}()
	var fg int32
	if !eventually(t, 5*time.Millisecond, func() bool {
		resp, _ := ta.ListProcesses(ctx(t), &agentv1.ListProcessesRequest{})
		for _, p := range resp.GetProcesses() {
			if !p.GetBackground() {
				fg = p.GetPid()
			}
		}
		return fg != 0
	}) {
		t.Fatal("the foreground command was never listed")
	}
	// Files, a read-only directory among them.
	ro := filepath.Join(ta.workspace, "ro")
	for _, d := range []string{ro, filepath.Join(ta.workspace, "dir/sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a.txt", "ro/f", "dir/sub/g", ".hidden"} {
		if err := os.WriteFile(filepath.Join(ta.workspace, f), []byte("x"), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(ro, 0o555); err != nil {
		t.Fatal(err)
	}

	resp, err := ta.Reset(ctx(t), &agentv1.ResetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var killed []int
	for _, k := range resp.GetKilled() {
		killed = append(killed, int(k.GetPid()))
	}
	for _, pid := range []int{int(bg.Pid), orphan, int(fg)} {
		if !slices.Contains(killed, pid) {
			t.Errorf("pid %d not in the killed list %v", pid, killed)
		}
		if !dead(pid) {
			t.Errorf("pid %d survived the reset", pid)
		}
	}
	if len(killed) < 5 {
		t.Errorf("killed %v: want at least the 5 processes started", killed)
	}
	slices.Sort(resp.Removed)
	if !slices.Equal(resp.GetRemoved(), []string{".hidden", "a.txt", "dir", "ro"}) {
		t.Errorf("removed %v", resp.GetRemoved())
	}
	entries, err := os.ReadDir(ta.workspace)
	if err != nil || len(entries) != 0 {
		t.Errorf("workspace after reset: %v entries, %v; want it empty and present", len(entries), err)
	}
	if err := <-fgDone; err != nil {
		t.Errorf("the foreground call ended with %v, want its exit status", err)
	}
	list, _ := ta.ListProcesses(ctx(t), &agentv1.ListProcessesRequest{})
	if n := len(list.GetProcesses()); n != 0 {
		t.Errorf("%d processes listed after reset: %v", n, list.GetProcesses())
	}
	// The agent works on after a reset, and a tag is free again.
	if res := ta.run(t, &agentv1.ExecRequest{Command: []string{"echo", "again"}, Tag: "a"}); string(res.Stdout) != "again\n" {
		t.Errorf("after reset: %q", res.Stdout)
	}
}

func TestResetPreserveFiles(t *testing.T) {
	ta := startAgent(t, nil)
	writeWorkspaceFile(t, ta, "keep.txt", []byte("x"))
	bg := ta.run(t, &agentv1.ExecRequest{Command: []string{"sleep", "1000"}, Background: true})
	resp, err := ta.Reset(ctx(t), &agentv1.ResetRequest{PreserveFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetKilled()) != 1 || resp.GetKilled()[0].GetPid() != bg.Pid || resp.GetKilled()[0].GetCommand()[0] != "sleep" {
		t.Errorf("killed %v, want the sleep", resp.GetKilled())
	}
	if len(resp.GetRemoved()) != 0 {
		t.Errorf("removed %v with preserve_files", resp.GetRemoved())
	}
	if _, err := os.Stat(filepath.Join(ta.workspace, "keep.txt")); err != nil {
		t.Errorf("preserve_files lost a file: %v", err)
	}
}

// TestKillAllWithGraceSendsSIGTERMOnce: a graceful stop (the agent's
// shutdown) must not repeat SIGTERM; some programs take a second one as
// "quit now, skip the cleanup".
func TestKillAllWithGraceSendsSIGTERMOnce(t *testing.T) {
	ta := startAgent(t, nil)
	count := filepath.Join(ta.workspace, "terms")
	ta.run(t, &agentv1.ExecRequest{
		Command:    []string{"sh", "-c", `trap 'echo term >> "$0"' TERM; : > "$0.ready"; while :; do sleep 0.05; done`, count},
		Background: true,
	})
	if !eventually(t, 5*time.Millisecond, func() bool {
		_, err := os.Stat(count + ".ready")
		return err == nil
	}) {
		t.Fatal("the command never installed its trap")
	}
	if _, err := ta.agent.KillAll(ctx(t), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(count)
	if err != nil {
		t.Fatalf("the command never saw SIGTERM: %v", err)
	}
	if n := strings.Count(string(b), "term"); n != 1 {
		t.Fatalf("the command got SIGTERM %d times, want once", n)
	}
}

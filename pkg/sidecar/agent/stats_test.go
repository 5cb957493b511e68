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
	"testing"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// TestGetStatsCountsProcessesAndWorkspace: two background sleeps (one a
// shell with a child) are three processes; the workspace's files are
// summed by their sizes, a symlink to a large file outside it is not
// followed, and after Reset nothing is alive.
func TestGetStatsCountsProcessesAndWorkspace(t *testing.T) {
	ta := startAgent(t, nil)
	before, err := ta.API().GetStats(ctx(t), &agentv1.StatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if before.GetProcesses() != 0 || before.GetWorkspaceBytes() != 0 {
		t.Fatalf("a fresh agent: %v, want no process and an empty workspace", before)
	}
	for _, argv := range [][]string{{"sleep", "30"}, {"sh", "-c", "sleep 30; true"}} {
		if _, err := ta.Run(ctx(t), &agentv1.ExecRequest{Command: argv, Background: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ta.workspace, "a"), make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ta.workspace, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ta.workspace, "d", "b"), make([]byte, 24), 0o644); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(outside, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(ta.workspace, "link")); err != nil {
		t.Fatal(err)
	}
	got, err := ta.API().GetStats(ctx(t), &agentv1.StatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetProcesses() != 3 {
		t.Errorf("processes = %d, want 3 (sleep; sh and its sleep)", got.GetProcesses())
	}
	// The workspace itself, a, d, d/b and link.
	if got.GetWorkspaceBytes() != 1024 || got.GetWorkspaceEntries() != 5 || got.GetWorkspaceWalkTruncated() {
		t.Errorf("workspace: %d bytes in %d entries (truncated %v), want 1024 in 5", got.GetWorkspaceBytes(), got.GetWorkspaceEntries(), got.GetWorkspaceWalkTruncated())
	}
	if _, err := ta.API().Reset(ctx(t), &agentv1.ResetRequest{PreserveFiles: true}); err != nil {
		t.Fatal(err)
	}
	if after, err := ta.API().GetStats(ctx(t), &agentv1.StatsRequest{}); err != nil || after.GetProcesses() != 0 {
		t.Errorf("after Reset: %v, %v; want no process", after, err)
	}
}

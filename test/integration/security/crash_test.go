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
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/arl-infra/arl/pkg/pool/local"
	"github.com/arl-infra/arl/test/integration/framework"
)

// TestCrashesDuringPoolCreationLeaveNoOrphans kills the server 20 times
// while its pool is creating sandboxes. After the last restart every
// sandbox process belongs to a pod on disk, and deleting the pool leaves
// no sandbox process and no cgroup.
func TestCrashesDuringPoolCreationLeaveNoOrphans(t *testing.T) {
	requireRoot(t)
	server := framework.StartStandalone(t)
	e := newEnv(t, server)
	e.pool(2)
	for i := range 20 {
		// A new size makes the pool create (or delete) sandboxes at once.
		patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, 2+2*(i%3))
		if _, err := e.arl.WarmPools(ns).Patch(e.ctx, "python-pool", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatalf("crash %d: scaling: %v", i, err)
		}
		// The crash comes at a random moment of the creation.
		time.Sleep(time.Duration(rand.IntN(400)) * time.Millisecond)
		server.Kill()
		server.Start()
		e = newEnv(t, server)
	}
	// The restarted server goes on creating sandboxes, and the cgroups and
	// the processes are two reads: a sandbox started between them would
	// look like an orphan for a moment. An orphan stays one: the check is
	// taken again until it holds, and its last findings are reported.
	parents := cgroupParents(t, server.DataDir)
	lo := blockOf(pods(t, server.DataDir)) // the directory's uid block
	var findings []string
	ok := func() bool {
		findings = nil
		onDisk := pods(t, server.DataDir)
		inCgroups := map[int]bool{}
		for cg, procs := range sandboxCgroups(parents) {
			_, pod, _ := strings.Cut(cg, "_")
			if _, ok := onDisk[pod]; !ok && len(procs) > 0 {
				findings = append(findings, fmt.Sprintf("cgroup %s has processes %v and no pod", cg, procs))
			}
			for _, pid := range procs {
				inCgroups[pid] = true
			}
		}
		// And every process of the directory's uid block is in such a cgroup.
		for _, pid := range processesWithUIDs(lo, lo+1<<16) {
			if !inCgroups[pid] {
				cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				findings = append(findings, fmt.Sprintf("sandbox process %d (%q) is in no sandbox cgroup", pid, cmdline))
			}
		}
		return len(findings) == 0
	}
	if !framework.Poll(30*time.Second, ok) {
		for _, f := range findings {
			t.Error(f)
		}
	}

	if err := e.arl.WarmPools(ns).Delete(e.ctx, "python-pool", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 2*time.Minute, "every sandbox of the deleted pool gone", func() bool {
		return len(pods(t, server.DataDir)) == 0 && len(processesWithUIDs(lo, lo+1<<16)) == 0
	})
	for cg, procs := range sandboxCgroups(parents) {
		t.Errorf("cgroup %s is left (processes %v)", cg, procs)
	}
}

// TestDeletedDataDirSandboxesAreReaped: sandboxes whose data directory was
// deleted while they ran are killed by the next server on that directory.
func TestDeletedDataDirSandboxesAreReaped(t *testing.T) {
	requireRoot(t)
	server := framework.StartStandalone(t)
	e := newEnv(t, server)
	e.pool(3)
	framework.Eventually(t, 2*time.Minute, "3 sandboxes Ready", func() bool {
		p, err := e.arl.WarmPools(ns).Get(e.ctx, "python-pool", metav1.GetOptions{})
		return err == nil && p.Status.ReadyReplicas == 3
	})
	old := pods(t, server.DataDir)
	parents := cgroupParents(t, server.DataDir)
	server.Stop()
	entries, _ := os.ReadDir(server.DataDir)
	for _, entry := range entries {
		if err := os.RemoveAll(filepath.Join(server.DataDir, entry.Name())); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range old {
		if !alive(p.PID) {
			t.Fatalf("sandbox %s ended with its server: nothing is left to reap", p.Name)
		}
	}
	server.Start()
	framework.Eventually(t, time.Minute, "the old sandboxes killed", func() bool {
		for _, p := range old {
			if alive(p.PID) {
				return false
			}
		}
		return true
	})
	for cg := range sandboxCgroups(parents) {
		t.Errorf("cgroup %s of a reaped sandbox is left", cg)
	}
}

// blockOf is the first uid of the block the pods' uids come from.
func blockOf(pods map[string]localPod) int {
	for _, p := range pods {
		return p.HostUID - (p.HostUID-local.DefaultFirstUID)%(1<<16)
	}
	return local.DefaultFirstUID
}

func alive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return pid > 0 && err == nil
}

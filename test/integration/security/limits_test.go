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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

// TestForkBombIsContained: a fork bomb in one sandbox hits its pids.max;
// the server and another sandbox keep serving meanwhile.
func TestForkBombIsContained(t *testing.T) {
	requireRoot(t)
	const pidsMax = 256
	server := framework.StartStandalone(t, "--local-sandbox-pids", strconv.Itoa(pidsMax))
	e := newEnv(t, server)
	e.pool(2)
	bomber, _ := e.sandbox("bomber"), e.sandbox("bystander")

	bombDone := make(chan *arlv1alpha1.Task, 1)
	go func() {
		// The bomb forks until the Task's timeout kills its process group.
		bombDone <- e.exec(newTask("bomb", "bomber", 20*time.Second, bash("bomb", "f() { f | f & }; f; sleep 60")))
	}()
	cgroup := cgroupOf(t, server.DataDir, bomber.Status.PodName, "pids.max")
	framework.Eventually(t, time.Minute, "the bomb reaching pids.max", func() bool {
		return maxEvents(t, cgroup) > 0
	})
	// While it is at its limit: another sandbox runs a Task, the API answers.
	alive := e.exec(newTask("alive", "bystander", time.Minute, bash("echo", "echo alive")))
	if alive.Status.State != arlv1alpha1.TaskSucceeded || alive.Status.Stdout != "alive\n" {
		t.Errorf("the bystander's Task: %s %q %q", alive.Status.State, alive.Status.Stdout, alive.Status.Stderr)
	}
	if _, err := e.arl.WarmPools(ns).List(e.ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("the API while the bomb runs: %v", err)
	}
	if limit := readTrim(t, filepath.Join(cgroup, "pids.max")); limit != strconv.Itoa(pidsMax) {
		t.Errorf("pids.max = %s, want %d", limit, pidsMax)
	}
	// The bomb's own Task fails, however it ends: its timeout kills it
	// (TimedOut), its shell cannot fork the final sleep (StepFailed), or
	// its sandbox's agent, in the same pids budget, cannot start a thread
	// and dies (AgentUnreachable; docs/security.md says so). All three
	// were seen; containment is what the test holds.
	bomb := <-bombDone
	switch r := reason(bomb); {
	case bomb.Status.State != arlv1alpha1.TaskFailed:
		t.Errorf("the bomb's Task: %s %s", bomb.Status.State, r)
	case r != "TimedOut" && r != "StepFailed" && r != "AgentUnreachable":
		t.Errorf("the bomb's Task failed for an unexpected reason: %s", r)
	default:
		t.Logf("the bomb's Task: %s %s", bomb.Status.State, r)
	}
}

// TestMemoryHogIsOOMKilled: a 4 GiB allocation is killed at the sandbox's
// memory limit and its Task fails with reason OOMKilled.
func TestMemoryHogIsOOMKilled(t *testing.T) {
	requireRoot(t)
	server := framework.StartStandalone(t, "--local-sandbox-memory", "256Mi")
	e := newEnv(t, server)
	e.pool(1)
	e.sandbox("hog")
	done := e.exec(newTask("hog", "hog", 2*time.Minute,
		arlv1alpha1.TaskStep{Name: "allocate", Type: arlv1alpha1.StepCommand,
			Command: []string{"python3", "-c", "b = bytearray(4 << 30); print('allocated', len(b))"}}))
	if done.Status.State != arlv1alpha1.TaskFailed || reason(done) != "OOMKilled" {
		t.Fatalf("the hog's Task: %s %s (steps %+v)\nstdout %q\nstderr %q", done.Status.State, reason(done), done.Status.Steps, done.Status.Stdout, done.Status.Stderr)
	}
	if strings.Contains(done.Status.Stdout, "allocated") {
		t.Errorf("the allocation succeeded: %q", done.Status.Stdout)
	}
	// The sandbox lives on and serves the next Task.
	after := e.exec(newTask("after", "hog", time.Minute, bash("echo", "echo still here")))
	if after.Status.State != arlv1alpha1.TaskSucceeded {
		t.Errorf("the Task after the OOM kill: %s %s %q", after.Status.State, reason(after), after.Status.Stderr)
	}
}

// cgroupOf finds the directory of a pod's cgroup in the hierarchy that has
// the given control file.
func cgroupOf(t *testing.T, dataDir, pod, controlFile string) string {
	t.Helper()
	for _, parent := range cgroupParents(t, dataDir) {
		dir := filepath.Join(parent, ns+"_"+pod)
		if _, err := os.Stat(filepath.Join(dir, controlFile)); err == nil {
			return dir
		}
	}
	t.Fatalf("pod %s has no cgroup with %s", pod, controlFile)
	return ""
}

// maxEvents is how often the pids controller refused a fork ("max N").
func maxEvents(t *testing.T, cgroup string) int {
	for _, line := range strings.Split(readTrim(t, filepath.Join(cgroup, "pids.events")), "\n") {
		if v, ok := strings.CutPrefix(line, "max "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

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

package executor

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// TestStatusWriteThatNoLongerApplies: a status write whose Task moved on
// ends with errTaskStateChanged, as the store hands it back, and writes
// nothing.
func TestStatusWriteThatNoLongerApplies(t *testing.T) {
	h := newExecutorHarness(t, 0)
	h.createSandbox(t, "sb")
	h.createTask(t, "sb", "busy")
	h.nextStarted(t)
	before, err := h.getTask(t, "busy")
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.e.updateStatus(h.ctx(), "busy", func(task *arl.Task) error {
		if task.Status.State != arl.TaskPending {
			return errTaskStateChanged
		}
		task.Status.State = arl.TaskFailed
		return nil
	})
	if !errors.Is(err, errTaskStateChanged) {
		t.Fatalf("writing over a Running Task: %v, want errTaskStateChanged", err)
	}
	after, err := h.getTask(t, "busy")
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the refused write stored the Task (resourceVersion %s, then %s)", before.ResourceVersion, after.ResourceVersion)
	}
	h.agent.finish("busy")
	h.waitState(t, "busy", arl.TaskSucceeded)
}

// TestActivityRecordedAtMostOncePerQuarterOfTheIdleTimeout: touch writes
// a Sandbox's lastActivityTime, then skips the write (errActivityRecent)
// until a quarter of its idle timeout has passed, on the executor's clock.
func TestActivityRecordedAtMostOncePerQuarterOfTheIdleTimeout(t *testing.T) {
	h := newExecutorHarness(t, 0)
	sandbox := &arl.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "idle", Namespace: "ns"},
		Spec: arl.SandboxSpec{PoolRef: "p", KeepAlive: true, IdleTimeoutSeconds: ptr.To[int32](60)}}
	if _, err := h.sandboxes.Sandbox.Create(h.ctx(), sandbox, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lastActivity := func() time.Time {
		t.Helper()
		obj, err := h.sandboxes.Sandbox.Get(h.ctx(), "idle", &metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if last := obj.(*arl.Sandbox).Status.LastActivityTime; last != nil {
			return last.Time
		}
		return time.Time{}
	}

	h.e.touch(sandbox)
	first := lastActivity()
	if first.IsZero() {
		t.Fatal("no lastActivityTime recorded")
	}
	h.clock.Step(14 * time.Second)
	h.e.touch(sandbox)
	if got := lastActivity(); !got.Equal(first) {
		t.Fatalf("lastActivityTime rewritten %s after the last, within a quarter of the idle timeout", got.Sub(first))
	}
	h.clock.Step(2 * time.Second)
	h.e.touch(sandbox)
	if got := lastActivity(); !got.After(first) {
		t.Fatal("lastActivityTime not rewritten past a quarter of the idle timeout")
	}
}

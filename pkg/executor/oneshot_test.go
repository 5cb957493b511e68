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
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

func oneShot(sandbox *arl.Sandbox) { sandbox.Spec.KeepAlive = false }

func (h *executorHarness) sandboxExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := h.sandboxes.Sandbox.Get(h.ctx(), name, &metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func (h *executorHarness) waitSandboxGone(t *testing.T, name string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return !h.sandboxExists(t, name), nil
	})
	if err != nil {
		t.Fatalf("Sandbox %s was not deleted", name)
	}
}

// TestOneShotSandboxGoesAfterItsLastTask: a keepAlive: false Sandbox runs
// every Task queued for it and is deleted when the last one finishes, not
// after the first.
func TestOneShotSandboxGoesAfterItsLastTask(t *testing.T) {
	h := newExecutorHarness(t, 0)
	h.createSandbox(t, "once", oneShot)
	h.createTask(t, "once", "first")
	h.createTask(t, "once", "second")
	if got := h.nextStarted(t); got != "first" {
		t.Fatalf("started %s first", got)
	}
	h.agent.finish("first")
	if got := h.nextStarted(t); got != "second" {
		t.Fatalf("started %s second", got)
	}
	h.waitState(t, "first", arl.TaskSucceeded)
	if !h.sandboxExists(t, "once") {
		t.Fatal("the one-shot Sandbox went while its second Task ran")
	}
	h.agent.finish("second")
	h.waitState(t, "second", arl.TaskSucceeded)
	h.waitSandboxGone(t, "once")
}

// TestOneShotSandboxWaitsForAnotherReplicasTask: a Task of the Sandbox
// that another replica stored, still Pending, keeps the Sandbox when this
// replica's Task ends (that replica deletes it after its own).
func TestOneShotSandboxWaitsForAnotherReplicasTask(t *testing.T) {
	h := newExecutorHarness(t, 0)
	h.createSandbox(t, "once", oneShot)
	elsewhere := &arl.Task{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "ns"}, Spec: arl.TaskSpec{SandboxRef: "once",
		Steps: []arl.TaskStep{{Name: "run", Type: arl.StepCommand, Command: []string{"elsewhere"}}}}}
	// Stored as another replica would, without this executor.
	if _, err := h.tasks.Task.Store.Create(h.ctx(), elsewhere, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.updateStatus(h.ctx(), "elsewhere", func(t *arl.Task) error {
		t.Status = pendingStatus("replica-b", ReasonQueued, "queued on replica-b", metav1.Now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.createTask(t, "once", "here")
	h.nextStarted(t)
	h.agent.finish("here")
	h.waitState(t, "here", arl.TaskSucceeded)
	// What must not happen is given a fair chance to.
	time.Sleep(300 * time.Millisecond)
	if !h.sandboxExists(t, "once") {
		t.Fatal("the one-shot Sandbox went while another replica's Task of it was Pending")
	}
}

// TestAdmitWaitsForAClosingOneShot: a Task created while this replica
// decides whether a one-shot Sandbox goes waits for the decision: it runs
// if the Sandbox stays, and fails SandboxNotFound, saying why in stderr,
// if it went (even though the cache it read still had it Ready).
func TestAdmitWaitsForAClosingOneShot(t *testing.T) {
	for _, deleted := range []bool{false, true} {
		h := newExecutorHarness(t, 0)
		sandbox := h.createSandbox(t, "once", oneShot)
		q := h.e.queue(taskKey("ns", "once"))
		closing := make(chan struct{})
		h.e.mu.Lock()
		q.closing = closing
		h.e.mu.Unlock()

		admitted := make(chan arl.TaskStatus, 1)
		go func() {
			status, _, undo := h.e.Admit(h.ctx(), &arl.Task{ObjectMeta: metav1.ObjectMeta{Name: "t", Namespace: "ns"}, Spec: arl.TaskSpec{SandboxRef: "once"}})
			if undo != nil {
				undo()
			}
			admitted <- status
		}()
		select {
		case status := <-admitted:
			t.Fatalf("deleted=%v: Admit decided (%s) while the Sandbox's fate was open", deleted, status.State)
		case <-time.After(300 * time.Millisecond):
		}
		h.e.mu.Lock()
		q.closing = nil
		if deleted {
			q.goneUID = sandbox.UID
		}
		h.e.mu.Unlock()
		close(closing)
		status := <-admitted
		switch {
		case deleted && (status.State != arl.TaskFailed || status.Conditions[0].Reason != ReasonSandboxNotFound || !strings.HasPrefix(status.Stderr, "SandboxNotFound: ")):
			t.Errorf("a Task admitted as its one-shot Sandbox went: %s %+v, stderr %q", status.State, status.Conditions, status.Stderr)
		case !deleted && status.State != arl.TaskRunning:
			t.Errorf("a Task admitted as its one-shot Sandbox stayed: %s, want Running", status.State)
		}
	}
}

// TestIdleQueuesAreForgotten: the queue of a Sandbox with nothing queued
// or running is dropped on the next tick, so a replica does not hold one
// per Sandbox it ever served; a one-shot Sandbox's queue stays goneKeep
// after its deletion (its goneUID turns away Tasks that a lagging cache
// would still admit: TestAdmitWaitsForAClosingOneShot).
func TestIdleQueuesAreForgotten(t *testing.T) {
	h := newExecutorHarness(t, 0)
	queued := func(name string) bool {
		h.e.mu.Lock()
		defer h.e.mu.Unlock()
		_, ok := h.e.queues[taskKey("ns", name)]
		return ok
	}
	waitForgotten := func(name string, at time.Time) {
		t.Helper()
		err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			h.e.kickAll(at)
			return !queued(name), nil
		})
		if err != nil {
			t.Fatalf("the queue of Sandbox %s is still kept", name)
		}
	}

	h.createSandbox(t, "kept")
	h.createTask(t, "kept", "one")
	h.nextStarted(t)
	h.e.kickAll(h.clock.Now())
	if !queued("kept") {
		t.Fatal("the queue of a Sandbox running a Task was dropped")
	}
	h.agent.finish("one")
	h.waitState(t, "one", arl.TaskSucceeded)
	waitForgotten("kept", h.clock.Now())

	h.createSandbox(t, "once", oneShot)
	h.createTask(t, "once", "only")
	h.nextStarted(t)
	h.agent.finish("only")
	h.waitSandboxGone(t, "once")
	h.e.kickAll(h.clock.Now())
	if !queued("once") {
		t.Fatal("the queue of a one-shot Sandbox just deleted was dropped")
	}
	waitForgotten("once", h.clock.Now().Add(goneKeep))
}

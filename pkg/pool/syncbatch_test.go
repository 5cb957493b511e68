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

package pool

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// TestEventsSyncedInBatches: pod and Sandbox events sync their pool once
// SyncBatchPeriod has passed, gathering the events of a bind into one
// sync; a Sandbox waiting for a pod, and what may give it one, syncs at
// once.
func TestEventsSyncedInBatches(t *testing.T) {
	for _, tc := range []struct {
		name        string
		batchPeriod time.Duration
		waiting     bool // the pool's last sync left a Sandbox waiting
		event       func(t *testing.T, h *harness)
		wantAtOnce  bool
	}{
		{name: "pod events are batched", event: podEvents},
		{name: "pod events sync at once while a Sandbox waits", waiting: true, event: podEvents, wantAtOnce: true},
		{name: "a bound Sandbox is batched", event: sandboxEvent(arlv1alpha1.SandboxReady)},
		{name: "a pending Sandbox syncs at once", event: sandboxEvent(arlv1alpha1.SandboxPending), wantAtOnce: true},
		{name: "no batching", batchPeriod: -1, event: podEvents, wantAtOnce: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.c.cfg.SyncBatchPeriod = defaultSyncBatchPeriod
			if tc.batchPeriod != 0 {
				h.c.cfg.SyncBatchPeriod = tc.batchPeriod
			}
			h.c.waiting.set("ns/p", tc.waiting)
			queue := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
				workqueue.TypedRateLimitingQueueConfig[string]{Clock: h.clock})
			t.Cleanup(queue.ShutDown)
			h.c.queue.Store(&queue)
			h.c.leading.Store(true)

			tc.event(t, h)
			if got := queue.Len(); (got == 1) != tc.wantAtOnce || got > 1 {
				t.Fatalf("%d syncs queued at once, want at once: %v", got, tc.wantAtOnce)
			}
			if tc.wantAtOnce {
				return
			}
			h.clock.Step(h.c.cfg.SyncBatchPeriod - time.Millisecond)
			if got := queue.Len(); got != 0 {
				t.Fatalf("%d syncs queued before the batch period passed", got)
			}
			// Time moves on in steps, so a timer set a moment late fires too.
			h.waitFor(t, "one sync after the batch period", func() bool {
				h.clock.Step(time.Millisecond)
				return queue.Len() == 1
			})
		})
	}
}

// podEvents are three pods of pool p seen, as a bind and its refill bring
// them.
func podEvents(_ *testing.T, h *harness) {
	for _, name := range []string{"p-a", "p-b", "p-c"} {
		h.c.onPodChange(idlePod("ns", "p", name), false)
	}
}

func sandboxEvent(phase arlv1alpha1.SandboxPhase) func(t *testing.T, h *harness) {
	return func(_ *testing.T, h *harness) {
		h.c.onSandboxEvent(&arlv1alpha1.Sandbox{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb"},
			Spec:       arlv1alpha1.SandboxSpec{PoolRef: "p"},
			Status:     arlv1alpha1.SandboxStatus{Phase: phase},
		})
	}
}

// TestSyncRecordsWaitingSandboxes: a sync that leaves a Sandbox without a
// pod marks its pool waiting (its pod events then sync at once); the sync
// that binds it clears the mark.
func TestSyncRecordsWaitingSandboxes(t *testing.T) {
	pool := newPool("ns", "p", 0, "python:3.9-slim")
	h := newHarness(t)
	h.addPool(t, pool)
	h.addSandbox(t, &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb"},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: "p"},
		Status:     arlv1alpha1.SandboxStatus{Phase: arlv1alpha1.SandboxPending},
	})
	h.sync(t, "ns/p")
	if !h.c.waiting.has("ns/p") {
		t.Fatal("a Sandbox waits for a pod, yet its pool is not marked waiting")
	}
	created := h.rt.names()
	if len(created) != 1 {
		t.Fatalf("pods %v, want the one started for the Sandbox", created)
	}
	h.rt.setReady(t, created[0])
	h.sync(t, "ns/p")
	if got := h.getSandbox(t, "ns", "sb"); got.Status.Phase != arlv1alpha1.SandboxReady {
		t.Fatalf("Sandbox %s, want it bound to the pod started for it", got.Status.Phase)
	}
	if h.c.waiting.has("ns/p") {
		t.Fatal("the pool is still marked waiting after its Sandbox was bound")
	}
}

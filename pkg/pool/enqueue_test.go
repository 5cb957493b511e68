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

// TestWarmBindsSyncTheirPoolBatched: a claimed pod and a bound Sandbox
// queue their pool's sync after bindSyncDelay (on the controller's clock);
// a new pod, a released one and a Sandbox waiting for a pod queue it at once.
func TestWarmBindsSyncTheirPoolBatched(t *testing.T) {
	h := newHarness(t)
	queue := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "test", Clock: h.clock})
	t.Cleanup(queue.ShutDown)
	h.c.queue.Store(&queue)
	h.c.leading.Store(true)

	queued := func(what string) {
		t.Helper()
		h.waitFor(t, what+" queues its pool", func() bool { return queue.Len() == 1 })
		key, _ := queue.Get()
		queue.Done(key)
		if key != "ns/p" {
			t.Fatalf("%s queued %q, want ns/p", what, key)
		}
	}
	queuedAfterDelay := func(what string) {
		t.Helper()
		if n := queue.Len(); n != 0 {
			t.Fatalf("%s queued its pool at once", what)
		}
		h.clock.Step(bindSyncDelay)
		queued(what)
	}
	sandbox := func(phase arlv1alpha1.SandboxPhase) *arlv1alpha1.Sandbox {
		return &arlv1alpha1.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb"},
			Spec: arlv1alpha1.SandboxSpec{PoolRef: "p"}, Status: arlv1alpha1.SandboxStatus{Phase: phase}}
	}

	idle := &Pod{Namespace: "ns", Name: "p-1", UID: "uid-1", Pool: "p", State: PodIdle, TemplateHash: "h", Ready: true}
	h.c.onPodChange(idle, false)
	queued("a new pod")

	claimed := *idle
	claimed.State, claimed.Sandbox, claimed.ClaimedAt = PodAllocated, "sb", time.Unix(300, 0)
	h.c.onPodChange(&claimed, false)
	queuedAfterDelay("a claimed pod")

	h.c.enqueueSandboxPool(sandbox(arlv1alpha1.SandboxReady))
	queuedAfterDelay("a bound Sandbox")

	h.c.enqueueSandboxPool(sandbox(arlv1alpha1.SandboxPending))
	queued("a Sandbox waiting for a pod")

	h.c.onPodChange(idle, false)
	queued("a released pod")
}

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
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// add puts a pod into the runtime's cache, as a watch event would.
func (r *memRuntime) add(p *Pod) {
	r.mu.Lock()
	r.pods[p.Key()] = p
	r.mu.Unlock()
	r.notify(p, false)
}

// TestFailedPodsSlowThePool: each failed pod is replaced, but the pool
// creates its next pod only after a backoff that doubles with every
// failure in a row (5s, 10s, 20s ... 5m), so a broken template does not
// churn.
func TestFailedPodsSlowThePool(t *testing.T) {
	for _, tc := range []struct {
		failures  int
		wantDelay time.Duration
	}{
		{1, 5 * time.Second},
		{2, 10 * time.Second},
		{3, 20 * time.Second},
		{7, 5 * time.Minute}, // 320s, capped
	} {
		t.Run(fmt.Sprintf("%d failures", tc.failures), func(t *testing.T) {
			h := newHarness(t)
			pool := newPool("ns", "p", 1, "python:3.9-slim")
			h.addPool(t, pool)
			for i := range tc.failures {
				h.rt.add(&Pod{Namespace: "ns", Name: fmt.Sprintf("p-failed-%d", i), Pool: "p", State: PodIdle,
					TemplateHash: hashOf(pool), Created: h.clock.Now(), Failed: true, FailureReason: "ImagePullBackOff",
					FailureMessage: "image python:3.9-slim cannot be pulled"})
				h.sync(t, "ns/p")
			}
			if left := h.rt.names(); len(left) != 0 {
				t.Fatalf("pods after the failures: %v, want none (no new pod during the backoff)", left)
			}
			stored, err := h.cs.ArlV1alpha1().WarmPools("ns").Get(context.Background(), "p", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c := meta.FindStatusCondition(stored.Status.Conditions, arlv1alpha1.WarmPoolConditionReplicaFailure); c == nil || c.Status != metav1.ConditionTrue || c.Reason != "ImagePullBackOff" {
				t.Errorf("ReplicaFailure condition %+v, want True with the pod's reason", c)
			}
			if c := meta.FindStatusCondition(stored.Status.Conditions, arlv1alpha1.WarmPoolConditionReady); c == nil || c.Reason != "BackingOff" {
				t.Errorf("Ready condition %+v, want reason BackingOff", c)
			}

			h.clock.Step(tc.wantDelay - time.Second)
			h.sync(t, "ns/p")
			if got := h.rt.creates(); got != 0 {
				t.Fatalf("%d pods created a second before the backoff ends", got)
			}
			h.clock.Step(time.Second)
			h.sync(t, "ns/p")
			if got := h.rt.creates(); got != 1 {
				t.Fatalf("%d pods created once the backoff ended, want 1", got)
			}

			// A Ready pod ends the backoff.
			created := h.rt.names()
			h.rt.setReady(t, created[0])
			h.clock.Step(statusInterval)
			h.sync(t, "ns/p")
			if b, ok := h.c.backoff("ns/p"); ok {
				t.Errorf("backoff %+v kept after a pod became Ready", b)
			}
		})
	}
}

// TestFailedCreatesBackOff: a runtime that refuses to create pods is
// asked again after the same doubling backoff.
func TestFailedCreatesBackOff(t *testing.T) {
	h := newHarness(t)
	h.rt.createErr = errInjected
	h.addPool(t, newPool("ns", "p", 1, "python:3.9-slim"))
	syncAt := func(advance time.Duration, wantCalls int) {
		t.Helper()
		h.clock.Step(advance)
		_, _ = h.c.syncPool(context.Background(), "ns/p")
		if got := h.rt.creates(); got != wantCalls {
			t.Fatalf("at +%s: %d create calls, want %d", advance, got, wantCalls)
		}
	}
	syncAt(0, 1)
	syncAt(0, 1)
	syncAt(5*time.Second-time.Millisecond, 1)
	syncAt(time.Millisecond, 2) // 5s after the first failure
	syncAt(5*time.Second, 2)
	syncAt(5*time.Second, 3) // 10s after the second
}

// TestLeaderCreatesWhenTheBackoffEnds: the leader's work queue waits out
// a pool's backoff on the controller's clock, then refills the pool.
func TestLeaderCreatesWhenTheBackoffEnds(t *testing.T) {
	pool := newPool("ns", "p", 1, "python:3.9-slim")
	var failed []*Pod
	for i := range 3 {
		failed = append(failed, &Pod{Namespace: "ns", Name: fmt.Sprintf("p-failed-%d", i), Pool: "p", State: PodIdle,
			TemplateHash: hashOf(pool), Created: time.Now(), Failed: true, FailureReason: "Error"})
	}
	h := newHarness(t, failed...)
	h.addPool(t, pool)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.c.Lead(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	// Three failures in a row: 20s before the next pod, which no real
	// clock reaches while the test waits.
	h.waitFor(t, "the failed pods replaced", func() bool { return len(h.rt.names()) == 0 })
	if b, ok := h.c.backoff("ns/p"); !ok || b.failures != 3 {
		t.Fatalf("backoff %+v, want 3 failures", b)
	}
	if n := h.rt.creates(); n != 0 {
		t.Fatalf("%d pods created during the backoff", n)
	}
	// Time moves on in steps, so a timer set a moment late fires too.
	h.clock.Step(19 * time.Second)
	h.waitFor(t, "a pod created once the backoff ended", func() bool {
		h.clock.Step(time.Second)
		return h.rt.creates() == 1
	})
}

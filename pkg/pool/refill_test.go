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

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// TestRefillWaitsForABurstToPass: a pool that still has an idle Ready pod
// refills once binds pause for RefillQuiet, or RefillMaxDelay after it fell
// short; at once when it has none or a Sandbox waits.
func TestRefillWaitsForABurstToPass(t *testing.T) {
	const quiet, maxDelay = defaultRefillQuiet, defaultRefillMaxDelay
	for _, tc := range []struct {
		name string
		// boundAgo is how long ago the last bind was; idleReady how many
		// idle Ready pods remain of the pool's 3.
		boundAgo  time.Duration
		idleReady int
		// shortFor is how long the pool has been short before this sync.
		shortFor time.Duration
		waiting  bool // three Sandboxes wait for a pod
		wantWait time.Duration
	}{
		{name: "just after a bind, with idle pods left", boundAgo: 0, idleReady: 2, wantWait: quiet},
		{name: "binds paused long enough", boundAgo: quiet, idleReady: 2, wantWait: 0},
		{name: "partway through the quiet period", boundAgo: quiet / 3, idleReady: 2, wantWait: quiet - quiet/3},
		{name: "short for long enough under steady binds", boundAgo: 0, idleReady: 2, shortFor: maxDelay, wantWait: 0},
		{name: "the deadline comes before the quiet period ends", boundAgo: 0, idleReady: 2, shortFor: maxDelay - quiet/2, wantWait: quiet / 2},
		{name: "no idle pod left", boundAgo: 0, idleReady: 0, wantWait: 0},
		{name: "more Sandboxes wait than there are idle pods", boundAgo: 0, idleReady: 2, waiting: true, wantWait: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := newPool("ns", "p", 3, "python:3.9-slim")
			hash := hashOf(pool)
			var pods []*Pod
			for i := range 3 {
				if i < tc.idleReady {
					p := idlePod("ns", "p", "idle-"+string(rune('a'+i)))
					p.TemplateHash = hash
					pods = append(pods, p)
					continue
				}
				p := allocatedPod("ns", "p", "bound-"+string(rune('a'+i)), "sb-"+string(rune('a'+i)))
				p.TemplateHash = hash
				pods = append(pods, p)
			}
			h := newHarness(t, pods...)
			now := h.clock.Now()
			for _, p := range pods {
				if p.State == PodAllocated {
					h.rt.update(t, p.Key(), func(p *Pod) { p.ClaimedAt = now.Add(-time.Hour) })
					h.addSandbox(t, boundSandbox(p.Sandbox, p))
				}
			}
			// The last bind.
			if tc.idleReady < 3 {
				h.rt.update(t, "ns/bound-c", func(p *Pod) { p.ClaimedAt = now.Add(-tc.boundAgo) })
			}
			if tc.waiting {
				for _, name := range []string{"w1", "w2", "w3"} {
					h.addSandbox(t, &arlv1alpha1.Sandbox{
						ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
						Spec:       arlv1alpha1.SandboxSpec{PoolRef: "p"},
						Status:     arlv1alpha1.SandboxStatus{Phase: arlv1alpha1.SandboxPending},
					})
				}
			}
			h.addPool(t, pool)
			if tc.shortFor > 0 {
				h.c.shortfalls.begin("ns/p", now.Add(-tc.shortFor))
			}

			requeue := h.sync(t, "ns/p")
			created := h.rt.creates()
			if tc.wantWait == 0 {
				if created == 0 {
					t.Fatalf("no refill; requeued after %s", requeue)
				}
				return
			}
			if created != 0 {
				t.Fatalf("refilled %d pods at once, want a wait of %s", created, tc.wantWait)
			}
			if requeue != tc.wantWait {
				t.Errorf("requeued after %s, want %s", requeue, tc.wantWait)
			}
			// When the wait is over, the refill starts.
			h.clock.Step(requeue)
			h.sync(t, "ns/p")
			if h.rt.creates() == 0 {
				t.Errorf("no refill after the wait")
			}
		})
	}
}

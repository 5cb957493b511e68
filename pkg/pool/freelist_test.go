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
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestFreeListTakesEachCandidateOnce: every bindable pod is handed out once,
// a pod that stops being bindable is not, and an empty pool gives "".
func TestFreeListTakesEachCandidateOnce(t *testing.T) {
	f := NewFreeList()
	for i := range 20 {
		f.Observe(fmt.Sprintf("ns/pod-%d", i), idlePod("ns", "p", fmt.Sprintf("pod-%d", i)))
	}
	f.Observe("ns/pod-3", idlePod("ns", "p", "pod-3")) // seen again: still one candidate
	f.Observe("ns/pod-7", nil)                         // gone
	taken := map[string]bool{}
	for key := f.Take("ns/p"); key != ""; key = f.Take("ns/p") {
		if taken[key] {
			t.Fatalf("%s handed out twice", key)
		}
		taken[key] = true
	}
	if len(taken) != 19 || taken["ns/pod-7"] {
		t.Fatalf("took %d candidates (pod-7 among them: %v), want the 19 still bindable", len(taken), taken["ns/pod-7"])
	}
	if f.Len("ns/p") != 0 || f.Take("ns/p") != "" {
		t.Fatalf("an emptied pool still hands out pods")
	}
}

// TestReplicasBindingAtOnceRarelyPickTheSamePod: two replicas see the same
// pods in the same order and take one each per step, as in a burst of binds
// split between them; every take reaches the other replica's list before
// the next step, as the claim's pod event does. Had both taken the oldest,
// all 50 steps would collide (and the loser's claim fail and retry); random
// candidates collide about once in 100 pods.
func TestReplicasBindingAtOnceRarelyPickTheSamePod(t *testing.T) {
	a, b := NewFreeList(), NewFreeList()
	for i := range 100 {
		key := fmt.Sprintf("ns/pod-%d", i)
		pod := idlePod("ns", "p", fmt.Sprintf("pod-%d", i))
		a.Observe(key, pod)
		b.Observe(key, pod)
	}
	collisions := 0
	for range 50 {
		fromA, fromB := a.Take("ns/p"), b.Take("ns/p")
		if fromA == fromB {
			collisions++
		}
		for _, key := range []string{fromA, fromB} {
			a.Observe(key, nil)
			b.Observe(key, nil)
		}
	}
	if collisions > 10 {
		t.Fatalf("%d of 50 simultaneous takes picked the same pod on both replicas", collisions)
	}
}

// TestFreeListFollowsItsPods drives a free list and a plain set with the
// same random pod events and takes: they hold the same pods throughout.
func TestFreeListFollowsItsPods(t *testing.T) {
	f := NewFreeList()
	want := map[string]bool{}
	rng := rand.New(rand.NewPCG(1, 2))
	for step := range 5000 {
		name := fmt.Sprintf("pod-%d", rng.IntN(50))
		key := "ns/" + name
		switch rng.IntN(4) {
		case 0, 1: // idle and Ready
			f.Observe(key, idlePod("ns", "p", name))
			want[key] = true
		case 2: // bound, or gone
			if rng.IntN(2) == 0 {
				bound := idlePod("ns", "p", name)
				bound.State = PodAllocated
				f.Observe(key, bound)
			} else {
				f.Observe(key, nil)
			}
			delete(want, key)
		case 3:
			taken := f.Take("ns/p")
			if taken == "" {
				if len(want) != 0 {
					t.Fatalf("step %d: nothing taken from %d candidates", step, len(want))
				}
				continue
			}
			if !want[taken] {
				t.Fatalf("step %d: took %s, which is not a candidate", step, taken)
			}
			delete(want, taken)
		}
		if f.Len("ns/p") != len(want) {
			t.Fatalf("step %d: %d candidates, want %d", step, f.Len("ns/p"), len(want))
		}
	}
}

// BenchmarkFreeListAtTenThousandPods: what every replica does for each
// bind at fleet scale: the bound pod leaves a pool of 10,000 candidates
// and its replacement joins.
func BenchmarkFreeListAtTenThousandPods(b *testing.B) {
	f := NewFreeList()
	pods := make([]*Pod, 10000)
	for i := range pods {
		pods[i] = idlePod("ns", "p", fmt.Sprintf("pod-%d", i))
		f.Observe(pods[i].Key(), pods[i])
	}
	b.ResetTimer()
	for i := range b.N {
		p := pods[i%len(pods)]
		f.Observe(p.Key(), nil)
		f.Observe(p.Key(), p)
	}
}

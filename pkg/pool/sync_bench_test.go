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
)

// BenchmarkSyncPoolAtScale is one sync of a pool at the scale suite's
// size (make test-scale): 10,000 idle pods and 10,000 bound to Sandboxes.
// Nothing changes between syncs, so it is what a sync costs for a pod
// event that asks nothing of it. The in-memory runtime's List scans a map
// where the kube runtime reads an index (BenchmarkPoolList in
// pkg/pool/kube).
func BenchmarkSyncPoolAtScale(b *testing.B) {
	const idle, bound = 10000, 10000
	pool := newPool("ns", "p", idle, "python:3.9-slim")
	hash := hashOf(pool)
	var pods []*Pod
	for i := range idle {
		p := idlePod("ns", "p", fmt.Sprintf("idle-%d", i))
		p.TemplateHash = hash
		pods = append(pods, p)
	}
	for i := range bound {
		p := allocatedPod("ns", "p", fmt.Sprintf("bound-%d", i), fmt.Sprintf("sb-%d", i))
		p.TemplateHash = hash
		pods = append(pods, p)
	}
	h := newHarness(b, pods...)
	h.addPool(b, pool)
	// Straight into the informer's store: the fake clientset's tracker
	// would take minutes for 10,000 creates.
	sandboxes := h.c.cfg.Sandboxes.Informer().GetIndexer()
	for i, p := range pods[idle:] {
		if err := sandboxes.Add(boundSandbox(fmt.Sprintf("sb-%d", i), p)); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	if _, err := h.c.syncPool(ctx, "ns/p"); err != nil {
		b.Fatal(err)
	}
	if n := h.rt.creates(); n != 0 {
		b.Fatalf("the pool is full, yet its sync created %d pods", n)
	}
	b.ResetTimer()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.c.syncPool(ctx, "ns/p"); err != nil {
			b.Fatal(err)
		}
	}
}

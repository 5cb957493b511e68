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
	"errors"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

func TestDecideMissingPool(t *testing.T) {
	broken := errors.New("the store has no ARL marker")
	for _, tc := range []struct {
		name     string
		seen     bool
		storeErr error
		want     missingPoolAction
	}{
		{"deletion not seen, store fine: an administrator decides", false, nil, keepPods},
		{"deletion not seen, store broken", false, broken, keepPods},
		{"deletion seen, store fine: the pods go", true, nil, deletePods},
		{"deletion seen, store cannot be vouched for: later", true, broken, retryLater},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decideMissingPool(tc.seen, tc.storeErr); got != tc.want {
				t.Fatalf("decideMissingPool(%v, %v) = %v, want %v", tc.seen, tc.storeErr, got, tc.want)
			}
		})
	}
}

// TestMissingPoolKeepsItsPods: pods whose pool is merely absent (as after
// etcd came back empty) stay; a seen deletion removes them.
func TestMissingPoolKeepsItsPods(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t,
		idlePod("ns", "lost", "lost-a"), allocatedPod("ns", "lost", "lost-b", "sb"),
		idlePod("ns", "gone", "gone-a"), allocatedPod("ns", "gone", "gone-b", "sb2"),
	)
	if _, err := h.c.syncPool(ctx, "ns/lost"); err != nil {
		t.Fatal(err)
	}
	if got := h.rt.names(); len(got) != 4 {
		t.Fatalf("pods of a pool missing without a seen deletion were deleted: left %v", got)
	}

	h.createPool(t, "ns", "gone")
	h.deletePool(t, "ns", "gone")
	if _, err := h.c.syncPool(ctx, "ns/gone"); err != nil {
		t.Fatal(err)
	}
	want := []string{"ns/lost-a", "ns/lost-b"}
	if got := h.rt.names(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("after the pool's deletion was seen: pods %v, want %v", got, want)
	}
}

// TestSeenDeletionWaitsForAVerifiedStore: a deletion seen while the store
// cannot be vouched for deletes nothing.
func TestSeenDeletionWaitsForAVerifiedStore(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, idlePod("ns", "p", "p-a"))
	h.createPool(t, "ns", "p")
	h.deletePool(t, "ns", "p")
	h.store.verifyErr = errors.New("the store has no ARL marker")
	if _, err := h.c.syncPool(ctx, "ns/p"); err == nil {
		t.Fatal("syncPool acted on a deletion in a store that failed its check")
	}
	if _, err := h.c.syncPool(ctx, "ns/p"); err != nil {
		t.Fatalf("with the store refused, the sync must wait, not fail: %v", err)
	}
	if got := h.rt.names(); len(got) != 1 {
		t.Fatalf("pods deleted while the store was refused: left %v", got)
	}
}

func TestTombstoneIsNotASeenDeletion(t *testing.T) {
	h := newHarness(t)
	pool := &arlv1alpha1.WarmPool{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	h.c.observePoolDeleted(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: pool})
	if h.c.deletions.seen("ns/p") {
		t.Fatal("a relist's tombstone counted as a seen deletion")
	}
	h.c.observePoolDeleted(pool)
	if !h.c.deletions.seen("ns/p") {
		t.Fatal("a watch DELETE event was not recorded")
	}
	// A pool of that name created again is not deleted. The lister has it
	// before the informer's handlers run: wait for the Add handler.
	h.createPool(t, "ns", "p")
	h.waitFor(t, "a pool created again to no longer count as deleted", func() bool { return !h.c.deletions.seen("ns/p") })
}

// TestOrphanPodKeptWhileStoreUnverified: an allocated pod whose Sandbox
// is missing is reclaimed only from a store that checks out.
func TestOrphanPodKeptWhileStoreUnverified(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, allocatedPod("ns", "p", "p-a", "missing"))
	h.createPool(t, "ns", "p")
	h.store.verifyErr = errors.New("the store's revision went back")
	if _, err := h.c.syncPool(ctx, "ns/p"); err == nil {
		t.Fatal("an orphan was handled in a store that failed its check")
	}
	if got := h.rt.names(); len(got) != 1 {
		t.Fatalf("an allocated pod was reclaimed while the store failed its check: left %v", got)
	}

	h2 := newHarness(t, allocatedPod("ns", "p", "p-a", "missing"))
	h2.createPool(t, "ns", "p")
	if _, err := h2.c.syncPool(ctx, "ns/p"); err != nil {
		t.Fatal(err)
	}
	if got := h2.rt.names(); len(got) != 0 {
		t.Fatalf("an orphan past its grace in a verified store was kept: %v", got)
	}
}

// TestLeadsAgainAfterLosingLeadership: a replica that lost the Lease (a
// kube-apiserver outage longer than the renew deadline) and wins it back
// manages pools again: each term has its own work queue.
func TestLeadsAgainAfterLosingLeadership(t *testing.T) {
	h := newHarness(t)
	for term := 0; term < 3; term++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			h.c.Lead(ctx)
			close(done)
		}()
		name := fmt.Sprintf("p%d", term)
		h.createPool(t, "ns", name)
		h.waitFor(t, fmt.Sprintf("term %d to write pool %s's status", term, name), func() bool {
			p, err := h.cs.ArlV1alpha1().WarmPools("ns").Get(ctx, name, metav1.GetOptions{})
			return err == nil && p.Status.Selector != ""
		})
		cancel()
		<-done
	}
}

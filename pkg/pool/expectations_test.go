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
)

// TestCreatesInFlightAreNotCreatedTwice: pods created but not yet in the
// runtime's cache count toward the pool until they show up, or until
// expectationTTL says they never will.
func TestCreatesInFlightAreNotCreatedTwice(t *testing.T) {
	for _, tc := range []struct {
		name string
		// show: the cache catches up between the two syncs.
		show        bool
		advance     time.Duration
		wantCreates int
	}{
		{name: "the cache lags: the second sync creates nothing", wantCreates: 3},
		{name: "the cache caught up: nothing more", show: true, wantCreates: 3},
		{name: "still unseen just before the expectations expire", advance: expectationTTL, wantCreates: 3},
		{name: "never seen: the expectations expire and the pool creates again", advance: expectationTTL + time.Second, wantCreates: 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.rt.lagCreates = true
			h.addPool(t, newPool("ns", "p", 3, "python:3.9-slim"))
			h.sync(t, "ns/p")
			if got := h.rt.creates(); got != 3 {
				t.Fatalf("first sync created %d pods, want 3", got)
			}
			if tc.show {
				h.rt.show()
			}
			h.clock.Step(tc.advance)
			h.sync(t, "ns/p")
			if got := h.rt.creates(); got != tc.wantCreates {
				t.Fatalf("after the second sync: %d pods created, want %d", got, tc.wantCreates)
			}
		})
	}
}

// TestDeletedBeforeSeenIsNotExpected: a created pod deleted before the
// cache showed it (its delete event arrives) is no longer waited for.
func TestDeletedBeforeSeenIsNotExpected(t *testing.T) {
	h := newHarness(t)
	h.rt.lagCreates = true
	h.addPool(t, newPool("ns", "p", 1, "python:3.9-slim"))
	h.sync(t, "ns/p")
	if got := h.c.expectations.pending("ns/p", h.clock.Now()); got != 1 {
		t.Fatalf("%d pods expected after a create the cache lags, want 1", got)
	}
	h.c.onPodChange(&Pod{Namespace: "ns", Name: "p-new-1", Pool: "p"}, true)
	h.sync(t, "ns/p")
	if got := h.rt.creates(); got != 2 {
		t.Fatalf("%d pods created, want 2: the deleted pod must be replaced", got)
	}
}

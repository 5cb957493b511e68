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

func TestPodEventsThatSyncTheirPool(t *testing.T) {
	base := Pod{
		Namespace: "ns", Name: "p-1", UID: "uid-1", Version: "10", Pool: "p",
		State: PodIdle, TemplateHash: "h1", Ready: true, IP: "10.0.0.1", Node: "n1",
		Created: time.Unix(100, 0),
	}
	tests := []struct {
		name   string
		change func(*Pod)
		sync   syncNeed
	}{
		{"nothing but the version (a label patch the claims made already)", func(p *Pod) { p.Version = "11" }, syncNotNeeded},
		{"its IP", func(p *Pod) { p.IP = "10.0.0.2" }, syncNotNeeded},
		{"its node", func(p *Pod) { p.Node = "n2" }, syncNotNeeded},
		{"since when it is not Ready, alone", func(p *Pod) { p.NotReadySince = time.Unix(200, 0) }, syncNotNeeded},
		{"Ready", func(p *Pod) { p.Ready = false }, syncNow},
		{"claimed", func(p *Pod) { p.State, p.Sandbox, p.ClaimedAt = PodAllocated, "sb", time.Unix(300, 0) }, syncBatched},
		{"allocated, without a Sandbox", func(p *Pod) { p.State = PodAllocated }, syncBatched},
		{"claimed and no longer Ready", func(p *Pod) { p.State, p.Sandbox, p.Ready = PodAllocated, "sb", false }, syncNow},
		{"claimed and resized", func(p *Pod) { p.State, p.Sandbox, p.Resized = PodAllocated, "sb", true }, syncNow},
		{"its Sandbox", func(p *Pod) { p.Sandbox = "sb" }, syncNow},
		{"when it was claimed", func(p *Pod) { p.ClaimedAt = time.Unix(300, 0) }, syncNow},
		{"its template", func(p *Pod) { p.TemplateHash = "h2" }, syncNow},
		{"failed", func(p *Pod) { p.Failed = true }, syncNow},
		{"why it failed", func(p *Pod) { p.FailureReason = "ErrImagePull" }, syncNow},
		{"how it failed", func(p *Pod) { p.FailureMessage = "pull access denied" }, syncNow},
		{"terminating", func(p *Pod) { p.Terminating = true }, syncNow},
		{"resized", func(p *Pod) { p.Resized = true }, syncNow},
		{"its pool", func(p *Pod) { p.Pool = "q" }, syncNow},
		{"a new pod of the name", func(p *Pod) { p.UID = "uid-2" }, syncNow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var changes podChanges
			first := base
			if got := changes.changed(first.Key(), &first); got != syncNow {
				t.Fatalf("a pod seen for the first time: %v, want syncNow", got)
			}
			if got := changes.changed(first.Key(), &first); got != syncNotNeeded {
				t.Fatalf("the same pod again: %v, want syncNotNeeded", got)
			}
			next := base
			tc.change(&next)
			if got := changes.changed(next.Key(), &next); got != tc.sync {
				t.Errorf("sync = %v, want %v", got, tc.sync)
			}
			if got := changes.changed(next.Key(), nil); got != syncNow {
				t.Errorf("a pod gone: %v, want syncNow", got)
			}
			if got := changes.changed(next.Key(), &next); got != syncNow {
				t.Errorf("a pod seen again after it was gone: %v, want syncNow", got)
			}
		})
	}
}

// TestReleasedPodSyncsAtOnce: a pod given back to the pool may be what a
// waiting Sandbox needs, so its release is not batched like its claim.
func TestReleasedPodSyncsAtOnce(t *testing.T) {
	claimed := Pod{Namespace: "ns", Name: "p-1", UID: "uid-1", Pool: "p", State: PodAllocated, Sandbox: "sb",
		TemplateHash: "h1", Ready: true, ClaimedAt: time.Unix(300, 0)}
	var changes podChanges
	changes.changed(claimed.Key(), &claimed)
	released := claimed
	released.State, released.Sandbox, released.ClaimedAt = PodIdle, "", time.Time{}
	if got := changes.changed(released.Key(), &released); got != syncNow {
		t.Fatalf("released: %v, want syncNow", got)
	}
}

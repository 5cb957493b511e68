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
		sync   bool
	}{
		{"nothing but the version (a label patch the claims made already)", func(p *Pod) { p.Version = "11" }, false},
		{"its IP", func(p *Pod) { p.IP = "10.0.0.2" }, false},
		{"its node", func(p *Pod) { p.Node = "n2" }, false},
		{"since when it is not Ready, alone", func(p *Pod) { p.NotReadySince = time.Unix(200, 0) }, false},
		{"Ready", func(p *Pod) { p.Ready = false }, true},
		{"allocated", func(p *Pod) { p.State = PodAllocated }, true},
		{"its Sandbox", func(p *Pod) { p.Sandbox = "sb" }, true},
		{"when it was claimed", func(p *Pod) { p.ClaimedAt = time.Unix(300, 0) }, true},
		{"its template", func(p *Pod) { p.TemplateHash = "h2" }, true},
		{"failed", func(p *Pod) { p.Failed = true }, true},
		{"why it failed", func(p *Pod) { p.FailureReason = "ErrImagePull" }, true},
		{"how it failed", func(p *Pod) { p.FailureMessage = "pull access denied" }, true},
		{"terminating", func(p *Pod) { p.Terminating = true }, true},
		{"resized", func(p *Pod) { p.Resized = true }, true},
		{"its pool", func(p *Pod) { p.Pool = "q" }, true},
		{"a new pod of the name", func(p *Pod) { p.UID = "uid-2" }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var changes podChanges
			first := base
			if !changes.changed(first.Key(), &first) {
				t.Fatal("a pod seen for the first time does not sync its pool")
			}
			if changes.changed(first.Key(), &first) {
				t.Fatal("the same pod again syncs its pool")
			}
			next := base
			tc.change(&next)
			if got := changes.changed(next.Key(), &next); got != tc.sync {
				t.Errorf("sync = %v, want %v", got, tc.sync)
			}
			if !changes.changed(next.Key(), nil) {
				t.Error("a pod gone does not sync its pool")
			}
			if !changes.changed(next.Key(), &next) {
				t.Error("a pod seen again after it was gone does not sync its pool")
			}
		})
	}
}

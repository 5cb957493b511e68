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
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// TestAgentForAGonePod: a Sandbox whose pod is not in the runtime, or was
// replaced by another of that name, gets ErrPodGone, naming both; one
// whose pod is there is not told its pod is gone.
func TestAgentForAGonePod(t *testing.T) {
	rt := newMemRuntime(clock.RealClock{},
		&Pod{Namespace: "ns", Name: "pod-a", UID: "uid-a"})
	clients := client.NewPool()
	t.Cleanup(clients.Close)
	agents := NewAgents(rt, clients)
	sandbox := func(pod, uid string) *arl.Sandbox {
		return &arl.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb"},
			Status: arl.SandboxStatus{Phase: arl.SandboxReady, PodName: pod, PodUID: types.UID("uid-" + uid)}}
	}
	for _, tc := range []struct {
		name     string
		sandbox  *arl.Sandbox
		wantGone bool
	}{
		{"pod missing", sandbox("pod-b", "b"), true},
		{"pod replaced", sandbox("pod-a", "old"), true},
		{"pod there", sandbox("pod-a", "a"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := agents.AgentFor(context.Background(), tc.sandbox)
			if gone := errors.Is(err, ErrPodGone); gone != tc.wantGone {
				t.Fatalf("AgentFor: %v; ErrPodGone %t, want %t", err, gone, tc.wantGone)
			}
			if want := `the pod ` + tc.sandbox.Status.PodName + ` of Sandbox "sb" is gone`; tc.wantGone && err.Error() != want {
				t.Errorf("AgentFor: %q, want %q", err, want)
			}
		})
	}
}

// TestAgentForClaimed: a Sandbox read from a cache is trusted only while
// its pod is still allocated to a Sandbox of its name.
func TestAgentForClaimed(t *testing.T) {
	rt := newMemRuntime(clock.RealClock{},
		&Pod{Namespace: "ns", Name: "bound", UID: "uid-bound", State: PodAllocated, Sandbox: "sb"},
		&Pod{Namespace: "ns", Name: "rebound", UID: "uid-rebound", State: PodAllocated, Sandbox: "other"},
		&Pod{Namespace: "ns", Name: "idle", UID: "uid-idle", State: PodIdle},
		&Pod{Namespace: "ns", Name: "leaving", UID: "uid-leaving", State: PodAllocated, Sandbox: "sb", Terminating: true},
	)
	clients := client.NewPool()
	t.Cleanup(clients.Close)
	agents := NewAgents(rt, clients)
	for _, tc := range []struct {
		name, pod, uid string
		want           bool
	}{
		{"still claimed by it", "bound", "uid-bound", true},
		{"released and bound to another Sandbox", "rebound", "uid-rebound", false},
		{"released to the pool", "idle", "uid-idle", false},
		{"being deleted", "leaving", "uid-leaving", false},
		{"replaced by a pod of that name", "bound", "uid-old", false},
		{"gone", "missing", "uid-missing", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sandbox := &arl.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb"},
				Status: arl.SandboxStatus{Phase: arl.SandboxReady, PodName: tc.pod, PodUID: types.UID(tc.uid)}}
			// The in-memory runtime's pods have no agent to dial: a
			// claimed one answers ok with the dial's error.
			_, ok, err := agents.AgentForClaimed(context.Background(), sandbox)
			if ok != tc.want {
				t.Errorf("AgentForClaimed: ok %t (%v), want %t", ok, err, tc.want)
			}
		})
	}
}

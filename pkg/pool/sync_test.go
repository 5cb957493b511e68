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
	"slices"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// boundSandbox is a Ready Sandbox of pool p bound to pod.
func boundSandbox(name string, pod *Pod) *arlv1alpha1.Sandbox {
	return &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: "p"},
		Status:     arlv1alpha1.SandboxStatus{Phase: arlv1alpha1.SandboxReady, PodName: pod.Name, PodUID: pod.UID},
	}
}

// TestExcessIdlePodsDeleted: a pool keeps spec.replicas idle pods; the
// extra ones go, those that are not Ready first, then the newest.
// Allocated pods are not counted.
func TestExcessIdlePodsDeleted(t *testing.T) {
	pool := newPool("ns", "p", 0, "python:3.9-slim")
	hash := hashOf(pool)
	now := time.Now()
	idle := func(name string, age time.Duration, ready bool) *Pod {
		p := idlePod("ns", "p", name)
		p.TemplateHash, p.Created, p.Ready = hash, now.Add(-age), ready
		return p
	}
	allocated := func(name string) *Pod {
		p := allocatedPod("ns", "p", name, "sb-"+name)
		p.TemplateHash = hash
		return p
	}
	for _, tc := range []struct {
		name        string
		replicas    int32
		pods        []*Pod
		wantDeleted []string
	}{
		{name: "as many as wanted", replicas: 2,
			pods: []*Pod{idle("a", time.Hour, true), idle("b", time.Hour, true)}},
		{name: "the newest go", replicas: 1,
			pods:        []*Pod{idle("old", 3*time.Hour, true), idle("newer", 2*time.Hour, true), idle("newest", time.Hour, true)},
			wantDeleted: []string{"ns/newer", "ns/newest"}},
		{name: "a pod that is not Ready goes before a newer Ready one", replicas: 2,
			pods:        []*Pod{idle("ready", 3*time.Hour, true), idle("unready", 4*time.Minute, false), idle("newest", time.Minute, true)},
			wantDeleted: []string{"ns/unready"}},
		{name: "scaled to zero", replicas: 0,
			pods:        []*Pod{idle("a", time.Hour, true), idle("b", time.Hour, true)},
			wantDeleted: []string{"ns/a", "ns/b"}},
		{name: "allocated pods are not idle pods", replicas: 1,
			pods: []*Pod{allocated("x"), allocated("y"), idle("a", time.Hour, true)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.pods...)
			p := pool.DeepCopy()
			p.Spec.Replicas = &tc.replicas
			h.addPool(t, p)
			for _, pod := range tc.pods {
				if pod.State == PodAllocated {
					h.addSandbox(t, boundSandbox(pod.Sandbox, pod))
				}
			}
			h.sync(t, "ns/p")
			if got := h.rt.deletedKeys(); !slices.Equal(got, tc.wantDeleted) {
				t.Fatalf("deleted %v, want %v", got, tc.wantDeleted)
			}
			if n := h.rt.creates(); n != 0 {
				t.Fatalf("%d pods created by a pool that has enough", n)
			}
		})
	}
}

// TestTemplateChangeRollsIdlePodsOnly: when the pool's template changes,
// its idle pods are replaced at once; pods bound to Sandboxes stay theirs.
func TestTemplateChangeRollsIdlePodsOnly(t *testing.T) {
	pool := newPool("ns", "p", 2, "python:3.9-slim")
	oldHash := hashOf(pool)
	idleA, idleB := idlePod("ns", "p", "idle-a"), idlePod("ns", "p", "idle-b")
	bound := allocatedPod("ns", "p", "bound", "sb")
	for _, p := range []*Pod{idleA, idleB, bound} {
		p.TemplateHash = oldHash
	}
	h := newHarness(t, idleA, idleB, bound)
	h.addPool(t, pool)
	h.addSandbox(t, boundSandbox("sb", bound))
	h.sync(t, "ns/p")
	if got := h.rt.deletedKeys(); len(got) != 0 {
		t.Fatalf("pods of the current template deleted: %v", got)
	}

	changed := pool.DeepCopy()
	changed.Spec.Template.Spec.Containers[0].Image = "python:3.12-slim"
	changed.Generation = 2
	if _, err := h.cs.ArlV1alpha1().WarmPools("ns").Update(context.Background(), changed, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "the new template in the cache", func() bool {
		p, err := h.c.pools.WarmPools("ns").Get("p")
		return err == nil && p.Generation == 2
	})
	h.sync(t, "ns/p")
	if got, want := h.rt.deletedKeys(), []string{"ns/idle-a", "ns/idle-b"}; !slices.Equal(got, want) {
		t.Fatalf("deleted %v, want the idle pods %v", got, want)
	}
	if _, ok := h.rt.Get("ns", "bound"); !ok {
		t.Fatal("the pod bound to a Sandbox was deleted for a template change")
	}
	if n := h.rt.creates(); n != 2 {
		t.Fatalf("%d pods created, want 2 of the new template", n)
	}
	for _, p := range h.rt.List("ns", "p") {
		if p.State == PodIdle && p.TemplateHash != hashOf(changed) {
			t.Errorf("idle pod %s is of the old template", p.Name)
		}
	}
}

// TestAllocatedPodWithoutItsSandbox: a pod allocated to a Sandbox the
// cache does not have is kept for orphanGrace (the Sandbox may be being
// created on another replica), then reclaimed; a pod its Sandbox holds,
// or that a Pending Sandbox is being bound to, stays.
func TestAllocatedPodWithoutItsSandbox(t *testing.T) {
	pool := newPool("ns", "p", 0, "python:3.9-slim")
	for _, tc := range []struct {
		name       string
		claimedAgo time.Duration
		sandbox    func(pod *Pod) *arlv1alpha1.Sandbox
		wantKept   bool
	}{
		{name: "no Sandbox, just claimed", claimedAgo: 0, wantKept: true},
		{name: "no Sandbox, within the grace", claimedAgo: orphanGrace - time.Second, wantKept: true},
		{name: "no Sandbox, past the grace", claimedAgo: orphanGrace + time.Second, wantKept: false},
		{name: "its Sandbox holds it", claimedAgo: time.Hour, wantKept: true,
			sandbox: func(pod *Pod) *arlv1alpha1.Sandbox { return boundSandbox("sb", pod) }},
		{name: "its Sandbox is Pending: being bound", claimedAgo: time.Hour, wantKept: true,
			sandbox: func(*Pod) *arlv1alpha1.Sandbox {
				return &arlv1alpha1.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb"}, Spec: arlv1alpha1.SandboxSpec{PoolRef: "p"},
					Status: arlv1alpha1.SandboxStatus{Phase: arlv1alpha1.SandboxPending}}
			}},
		{name: "its Sandbox holds another pod", claimedAgo: orphanGrace + time.Second, wantKept: false,
			sandbox: func(*Pod) *arlv1alpha1.Sandbox { return boundSandbox("sb", idlePod("ns", "p", "other")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := allocatedPod("ns", "p", "a", "sb")
			pod.TemplateHash = hashOf(pool)
			h := newHarness(t, pod)
			pod.ClaimedAt = h.clock.Now().Add(-tc.claimedAgo)
			h.addPool(t, pool.DeepCopy())
			if tc.sandbox != nil {
				h.addSandbox(t, tc.sandbox(pod))
			}
			requeue := h.sync(t, "ns/p")
			if _, kept := h.rt.Get("ns", "a"); kept != tc.wantKept {
				t.Fatalf("pod kept %v, want %v", kept, tc.wantKept)
			}
			if tc.wantKept && tc.sandbox == nil {
				// Looked at again when the grace ends, and reclaimed then.
				if want := orphanGrace - tc.claimedAgo; requeue != want {
					t.Fatalf("requeued after %s, want %s", requeue, want)
				}
				h.clock.Step(requeue)
				h.sync(t, "ns/p")
				if _, kept := h.rt.Get("ns", "a"); kept {
					t.Fatal("pod kept once its grace ended")
				}
			}
		})
	}
}

// TestPodOfADeletedSandboxIsLeftToItsRelease: a pod whose Sandbox was
// just deleted is the deleting replica's to release (its reset may still
// run): the pool manager reclaims it only orphanGrace after the deletion,
// however long ago the pod was claimed.
func TestPodOfADeletedSandboxIsLeftToItsRelease(t *testing.T) {
	pool := newPool("ns", "p", 0, "python:3.9-slim")
	pod := allocatedPod("ns", "p", "a", "sb")
	pod.TemplateHash = hashOf(pool)
	h := newHarness(t, pod)
	pod.ClaimedAt = h.clock.Now().Add(-time.Hour)
	h.addPool(t, pool.DeepCopy())
	h.addSandbox(t, boundSandbox("sb", pod))
	if err := h.cs.ArlV1alpha1().Sandboxes("ns").Delete(context.Background(), "sb", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "the Sandbox's deletion seen", func() bool {
		_, deleted := h.c.sandboxDeletes.when("ns/sb")
		return deleted
	})
	h.clock.Step(time.Second)
	if requeue := h.sync(t, "ns/p"); requeue != orphanGrace-time.Second {
		t.Errorf("requeued after %s, want %s (the grace from the deletion)", requeue, orphanGrace-time.Second)
	}
	if _, kept := h.rt.Get("ns", "a"); !kept {
		t.Fatal("the pod was reclaimed while the Sandbox's own release may still run")
	}
	h.clock.Step(orphanGrace)
	h.sync(t, "ns/p")
	if _, kept := h.rt.Get("ns", "a"); kept {
		t.Fatal("pod kept once its grace ended")
	}
}

// TestReadySandboxFailsWhenItsPodIsLost: a sync fails a Ready Sandbox
// whose pod is gone, replaced under the same name, failed or being
// deleted, and leaves the others as they are.
func TestReadySandboxFailsWhenItsPodIsLost(t *testing.T) {
	pool := newPool("ns", "p", 0, "python:3.9-slim")
	for _, tc := range []struct {
		name        string
		pod         func(*Pod) *Pod // nil: the pod is gone
		sandbox     func(*arlv1alpha1.Sandbox)
		wantPhase   arlv1alpha1.SandboxPhase
		wantMessage string
	}{
		{name: "its pod is serving", pod: func(p *Pod) *Pod { return p }, wantPhase: arlv1alpha1.SandboxReady},
		{name: "its pod is gone", wantPhase: arlv1alpha1.SandboxFailed, wantMessage: "pod pod-a no longer exists"},
		{name: "another pod under its pod's name", wantPhase: arlv1alpha1.SandboxFailed, wantMessage: "pod pod-a no longer exists",
			pod: func(p *Pod) *Pod { p.UID = "uid-another"; return p }},
		{name: "its pod failed", wantPhase: arlv1alpha1.SandboxFailed, wantMessage: "pod pod-a failed: OOMKilled: the agent ran out of memory",
			pod: func(p *Pod) *Pod {
				p.Failed, p.FailureReason, p.FailureMessage = true, "OOMKilled", "the agent ran out of memory"
				return p
			}},
		{name: "its pod is being deleted", wantPhase: arlv1alpha1.SandboxFailed, wantMessage: "pod pod-a is being deleted",
			pod: func(p *Pod) *Pod { p.Terminating = true; return p }},
		{name: "a Sandbox being deleted is left alone", wantPhase: arlv1alpha1.SandboxReady,
			sandbox: func(s *arlv1alpha1.Sandbox) {
				s.DeletionTimestamp, s.Finalizers = ptr.To(metav1.Now()), []string{"test"}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bound := allocatedPod("ns", "p", "pod-a", "sb")
			bound.TemplateHash = hashOf(pool)
			sandbox := boundSandbox("sb", bound)
			if tc.sandbox != nil {
				tc.sandbox(sandbox)
			}
			var pods []*Pod
			if tc.pod != nil {
				pods = append(pods, tc.pod(bound))
			}
			h := newHarness(t, pods...)
			h.addPool(t, pool)
			h.addSandbox(t, sandbox)
			h.sync(t, "ns/p")

			got := h.getSandbox(t, "ns", "sb")
			if got.Status.Phase != tc.wantPhase {
				t.Fatalf("phase %s, want %s", got.Status.Phase, tc.wantPhase)
			}
			if tc.wantMessage == "" {
				return
			}
			ready := meta.FindStatusCondition(got.Status.Conditions, arlv1alpha1.SandboxConditionReady)
			if ready == nil || ready.Reason != ReasonPodLost || ready.Message != tc.wantMessage {
				t.Errorf("Ready condition %+v, want reason %s and message %q", ready, ReasonPodLost, tc.wantMessage)
			}
		})
	}
}

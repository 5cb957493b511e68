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
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

func newSandbox(namespace, name, pool string) *arl.Sandbox {
	return &arl.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Spec: arl.SandboxSpec{PoolRef: pool}}
}

// TestBindTakesAReadyIdlePod: the create path hands a Sandbox a Ready
// idle pod of the current template from the free list; a pod
// another replica claimed first is passed over for the next; with none
// the Sandbox waits, Pending.
func TestBindTakesAReadyIdlePod(t *testing.T) {
	pool := newPool("ns", "p", 2, "python:3.9-slim")
	hash := hashOf(pool)
	pod := func(name string, mutate ...func(*Pod)) *Pod {
		p := idlePod("ns", "p", name)
		p.TemplateHash, p.Version = hash, "1"
		for _, m := range mutate {
			m(p)
		}
		return p
	}
	unready := func(p *Pod) { p.Ready = false }
	oldTemplate := func(p *Pod) { p.TemplateHash = "older" }

	for _, tc := range []struct {
		name string
		pods []*Pod
		// claimedElsewhere is claimed by another replica as this one tries.
		claimedElsewhere string
		noPool           bool
		wantPod          string // "": Pending
		wantReason       string
	}{
		{name: "a Ready idle pod is bound", pods: []*Pod{pod("a")}, wantPod: "a", wantReason: ReasonBound},
		{name: "a pod that is not Ready is not bound", pods: []*Pod{pod("a", unready)}, wantReason: ReasonWaitingForPod},
		{name: "a pod of an older template is not bound", pods: []*Pod{pod("a", oldTemplate), pod("b")}, wantPod: "b", wantReason: ReasonBound},
		{name: "conflict on the claim: the next pod", pods: []*Pod{pod("a"), pod("b")}, claimedElsewhere: "a", wantPod: "b", wantReason: ReasonBound},
		{name: "conflict on the only pod: the Sandbox waits", pods: []*Pod{pod("a")}, claimedElsewhere: "a", wantReason: ReasonWaitingForPod},
		{name: "no pod: the Sandbox waits", wantReason: ReasonWaitingForPod},
		{name: "no pool: the Sandbox waits for it", pods: []*Pod{pod("a")}, noPool: true, wantReason: ReasonPoolNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.pods...)
			if !tc.noPool {
				h.addPool(t, pool.DeepCopy())
			}
			if tc.claimedElsewhere != "" {
				h.rt.beforeClaim = func(p *Pod) {
					if p.Name == tc.claimedElsewhere {
						h.rt.update(t, p.Key(), func(p *Pod) { p.State, p.Sandbox = PodAllocated, "other" })
					}
				}
			}

			status, _, err := h.c.Bind(context.Background(), newSandbox("ns", "sb", "p"))
			if err != nil {
				t.Fatal(err)
			}
			if status.PodName != tc.wantPod {
				t.Fatalf("bound pod %q, want %q", status.PodName, tc.wantPod)
			}
			if c := meta.FindStatusCondition(status.Conditions, arl.SandboxConditionReady); c == nil || c.Reason != tc.wantReason {
				t.Fatalf("Ready condition %+v, want reason %s", c, tc.wantReason)
			}
			if tc.wantPod == "" {
				if status.Phase != arl.SandboxPending {
					t.Fatalf("phase %s without a pod, want Pending", status.Phase)
				}
				for _, p := range tc.pods {
					if got, _ := h.rt.Get("ns", p.Name); got.Sandbox == "sb" {
						t.Errorf("pod %s is allocated to a Sandbox that was not given it", p.Name)
					}
				}
				return
			}
			got, _ := h.rt.Get("ns", tc.wantPod)
			if status.Phase != arl.SandboxReady || status.PodUID != got.UID {
				t.Fatalf("status %s/%s, want Ready with pod %s's UID", status.Phase, status.PodUID, tc.wantPod)
			}
			if got.State != PodAllocated || got.Sandbox != "sb" {
				t.Fatalf("pod %s is %s for %q, want allocated to sb", got.Name, got.State, got.Sandbox)
			}
			// Bound once: a second Sandbox does not get the same pod.
			again, _, _ := h.c.Bind(context.Background(), newSandbox("ns", "sb2", "p"))
			if again.PodName == tc.wantPod {
				t.Fatalf("pod %s bound twice", tc.wantPod)
			}
		})
	}
}

// TestBindUndoReturnsThePod: a Sandbox the store refused gives its pod back.
func TestBindUndoReturnsThePod(t *testing.T) {
	pool := newPool("ns", "p", 1, "python:3.9-slim")
	a := idlePod("ns", "p", "a")
	a.TemplateHash = hashOf(pool)
	h := newHarness(t, a)
	h.addPool(t, pool)
	status, undo, err := h.c.Bind(context.Background(), newSandbox("ns", "sb", "p"))
	if err != nil || status.PodName != "a" {
		t.Fatalf("Bind: %s, %v", status.PodName, err)
	}
	undo()
	if got, _ := h.rt.Get("ns", "a"); got.State != PodIdle || got.Sandbox != "" {
		t.Fatalf("after undo pod a is %s for %q, want idle", got.State, got.Sandbox)
	}
	again, _, _ := h.c.Bind(context.Background(), newSandbox("ns", "sb2", "p"))
	if again.PodName != "a" {
		t.Fatalf("the returned pod is not bindable again: bound %q", again.PodName)
	}
}

// TestPendingSandboxBoundOnceAPodIsReady: a Sandbox created while its pool
// had no pod waits; the pool grows for it and binds it the moment a pod
// is Ready.
func TestPendingSandboxBoundOnceAPodIsReady(t *testing.T) {
	h := newHarness(t)
	h.addPool(t, newPool("ns", "p", 0, "python:3.9-slim"))
	status, _, err := h.c.Bind(context.Background(), newSandbox("ns", "sb", "p"))
	if err != nil || status.Phase != arl.SandboxPending {
		t.Fatalf("Bind with no pod: %s, %v; want Pending", status.Phase, err)
	}
	sandbox := &arlv1alpha1.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb",
		CreationTimestamp: metav1.NewTime(h.clock.Now())}, Spec: arlv1alpha1.SandboxSpec{PoolRef: "p"}}
	if err := arlv1alpha1.Convert_arl_SandboxStatus_To_v1alpha1_SandboxStatus(&status, &sandbox.Status, nil); err != nil {
		t.Fatal(err)
	}
	h.addSandbox(t, sandbox)

	h.sync(t, "ns/p")
	created := h.rt.names()
	if len(created) != 1 {
		t.Fatalf("a pool of 0 replicas with one waiting Sandbox has pods %v, want one new", created)
	}
	if got := h.getSandbox(t, "ns", "sb"); got.Status.Phase != arlv1alpha1.SandboxPending {
		t.Fatalf("Sandbox is %s while its pod is not Ready, want Pending", got.Status.Phase)
	}

	h.rt.setReady(t, created[0])
	h.clock.Step(time.Second)
	h.sync(t, "ns/p")
	got := h.getSandbox(t, "ns", "sb")
	if got.Status.Phase != arlv1alpha1.SandboxReady || "ns/"+got.Status.PodName != created[0] {
		t.Fatalf("Sandbox is %s with pod %q, want Ready with %s", got.Status.Phase, got.Status.PodName, created[0])
	}
	if pod, _ := h.rt.Get("ns", got.Status.PodName); pod.State != PodAllocated || pod.Sandbox != "sb" {
		t.Fatalf("pod is %s for %q, want allocated to sb", pod.State, pod.Sandbox)
	}
	if n := h.rt.creates(); n != 1 {
		t.Fatalf("%d pods created, want 1: the bound Sandbox needs no more", n)
	}
}

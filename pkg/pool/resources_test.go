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
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// list parses "cpu=500m,memory=1Gi" style pairs.
func list(pairs ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		out[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return out
}

func poolWithExecutorResources(res corev1.ResourceRequirements) *arlv1alpha1.WarmPool {
	p := newPool("ns", "p", 1, "python:3.9-slim")
	p.Spec.Template.Spec.Containers[0].Resources = res
	return p
}

// TestExecutorResources: a Sandbox's resources go over its pool template's
// (whose limits default its requests, as Kubernetes does); the result is
// checked as a whole and its errors name the Sandbox's own fields.
func TestExecutorResources(t *testing.T) {
	for _, tc := range []struct {
		name     string
		template corev1.ResourceRequirements
		own      corev1.ResourceRequirements
		want     corev1.ResourceRequirements
		noResize bool
		wantErrs []string
	}{
		{name: "none set: the pod is not resized", template: corev1.ResourceRequirements{Limits: list("memory", "1Gi")}, noResize: true},
		{name: "over a template without resources",
			own:  corev1.ResourceRequirements{Requests: list("cpu", "500m"), Limits: list("memory", "512Mi")},
			want: corev1.ResourceRequirements{Requests: list("cpu", "500m", "memory", "512Mi"), Limits: list("memory", "512Mi")}},
		{name: "the template's limits default its requests; what is left out is kept",
			template: corev1.ResourceRequirements{Limits: list("cpu", "2", "memory", "2Gi")},
			own:      corev1.ResourceRequirements{Requests: list("memory", "1Gi")},
			want:     corev1.ResourceRequirements{Requests: list("cpu", "2", "memory", "1Gi"), Limits: list("cpu", "2", "memory", "2Gi")}},
		{name: "a request over the template's limit",
			template: corev1.ResourceRequirements{Limits: list("memory", "1Gi")},
			own:      corev1.ResourceRequirements{Requests: list("memory", "2Gi")},
			wantErrs: []string{"spec.resources.requests[memory]"}},
		{name: "a lower limit lowers the request the template's limit defaulted",
			template: corev1.ResourceRequirements{Limits: list("memory", "1Gi")},
			own:      corev1.ResourceRequirements{Limits: list("memory", "256Mi")},
			want:     corev1.ResourceRequirements{Requests: list("memory", "256Mi"), Limits: list("memory", "256Mi")}},
		{name: "a limit under the template's request",
			template: corev1.ResourceRequirements{Requests: list("cpu", "1")},
			own:      corev1.ResourceRequirements{Limits: list("cpu", "500m")},
			wantErrs: []string{"spec.resources.limits[cpu]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, resize, errs := executorResources(poolWithExecutorResources(tc.template), tc.own)
			var gotErrs []string
			for _, e := range errs {
				gotErrs = append(gotErrs, e.Field)
			}
			if diff := cmp.Diff(tc.wantErrs, gotErrs); diff != "" {
				t.Fatalf("errors (-want +got):\n%s", diff)
			}
			if resize == tc.noResize {
				t.Fatalf("resize = %v, want %v", resize, !tc.noResize)
			}
			if len(tc.wantErrs) > 0 || tc.noResize {
				return
			}
			for kind, pair := range map[string][2]corev1.ResourceList{"requests": {tc.want.Requests, got.Requests}, "limits": {tc.want.Limits, got.Limits}} {
				want, have := pair[0], pair[1]
				if len(want) != len(have) {
					t.Fatalf("%s %v, want %v", kind, have, want)
				}
				for name, q := range want {
					if h := have[name]; q.Cmp(h) != 0 {
						t.Fatalf("%s[%s] = %s, want %s", kind, name, h.String(), q.String())
					}
				}
			}
		})
	}
}

// TestBindResizes: a Sandbox with resources gets a pod resized to them, or
// a clear error and the pod is not left in the pool changed: resources
// that do not fit the template claim nothing; a runtime that cannot resize
// gives the pod back; a failed resize deletes it.
func TestBindResizes(t *testing.T) {
	own := corev1.ResourceRequirements{Requests: list("cpu", "250m"), Limits: list("memory", "256Mi")}
	for _, tc := range []struct {
		name      string
		own       corev1.ResourceRequirements
		resizeErr error
		wantCode  int32 // 0: bound
		wantPod   string
	}{
		{name: "resized and bound", own: own},
		{name: "not fitting the template: nothing claimed", own: corev1.ResourceRequirements{Requests: list("memory", "4Gi")},
			wantCode: http.StatusUnprocessableEntity, wantPod: "idle"},
		{name: "a runtime that cannot resize: the pod goes back", own: own, resizeErr: fmt.Errorf("no cgroups: %w", ErrCannotResize),
			wantCode: http.StatusUnprocessableEntity, wantPod: "idle"},
		{name: "infeasible on the node: the pod is deleted", own: own, resizeErr: fmt.Errorf("%w: node has 1Gi", ErrResizeInfeasible),
			wantCode: http.StatusUnprocessableEntity, wantPod: "deleted"},
		{name: "the kubelet does not apply it in time: the pod is deleted", own: own, resizeErr: context.DeadlineExceeded,
			wantCode: http.StatusGatewayTimeout, wantPod: "deleted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := poolWithExecutorResources(corev1.ResourceRequirements{Limits: list("memory", "1Gi")})
			a := idlePod("ns", "p", "a")
			a.TemplateHash, a.Version = hashOf(pool), "1"
			h := newHarness(t, a)
			h.addPool(t, pool)
			h.rt.resizeErr = tc.resizeErr
			sandbox := newSandbox("ns", "sb", "p")
			sandbox.Spec.Resources = tc.own

			status, undo, err := h.c.Bind(context.Background(), sandbox)
			if tc.wantCode != 0 {
				if code := statusCode(err); code != tc.wantCode {
					t.Fatalf("Bind: %v (%d), want %d", err, code, tc.wantCode)
				}
				got, ok := h.rt.Get("ns", "a")
				switch {
				case tc.wantPod == "idle" && (!ok || got.State != PodIdle || got.Resized):
					t.Fatalf("pod a is %+v, want it idle and unchanged", got)
				case tc.wantPod == "deleted" && ok:
					t.Fatalf("pod a is %+v, want it deleted: it may be half resized", got)
				}
				return
			}
			if err != nil || status.Phase != arl.SandboxReady || status.PodName != "a" {
				t.Fatalf("Bind: %s %q, %v; want Ready with pod a", status.Phase, status.PodName, err)
			}
			applied := h.rt.resources["ns/a"]
			if r := applied.Requests[corev1.ResourceCPU]; r.Cmp(resource.MustParse("250m")) != 0 {
				t.Errorf("cpu request %s, want the Sandbox's 250m", r.String())
			}
			if l := applied.Limits[corev1.ResourceMemory]; l.Cmp(resource.MustParse("256Mi")) != 0 {
				t.Errorf("memory limit %s, want the Sandbox's 256Mi", l.String())
			}
			// The store refused the Sandbox: a resized pod is not the
			// template's any more, so it is deleted, not returned.
			undo()
			if got, ok := h.rt.Get("ns", "a"); ok {
				t.Fatalf("after undo pod a is %+v, want it deleted", got)
			}
		})
	}
}

// TestPendingSandboxResizedWhenBound: the pool manager resizes the pod it
// binds to a waiting Sandbox; a Sandbox whose resources do not fit the
// pool it waited for fails, with the fields named, and takes no pod.
func TestPendingSandboxResizedWhenBound(t *testing.T) {
	for _, tc := range []struct {
		name       string
		own        corev1.ResourceRequirements
		wantPhase  arlv1alpha1.SandboxPhase
		wantReason string
	}{
		{name: "resized", own: corev1.ResourceRequirements{Limits: list("memory", "512Mi")}, wantPhase: arlv1alpha1.SandboxReady, wantReason: ReasonBound},
		{name: "not fitting", own: corev1.ResourceRequirements{Requests: list("memory", "2Gi")}, wantPhase: arlv1alpha1.SandboxFailed, wantReason: ReasonResizeFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := poolWithExecutorResources(corev1.ResourceRequirements{Limits: list("memory", "1Gi")})
			a := idlePod("ns", "p", "a")
			a.TemplateHash, a.Version = hashOf(pool), "1"
			h := newHarness(t, a)
			// The Sandbox came first: created Pending, PoolNotFound.
			h.addSandbox(t, &arlv1alpha1.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb", CreationTimestamp: metav1.NewTime(h.clock.Now())},
				Spec:   arlv1alpha1.SandboxSpec{PoolRef: "p", Resources: tc.own},
				Status: arlv1alpha1.SandboxStatus{Phase: arlv1alpha1.SandboxPending}})
			h.addPool(t, pool)
			h.clock.Step(time.Second)
			h.sync(t, "ns/p")

			got := h.getSandbox(t, "ns", "sb")
			cond := findReady(got)
			if got.Status.Phase != tc.wantPhase || cond == nil || cond.Reason != tc.wantReason {
				t.Fatalf("Sandbox is %s with %+v, want %s (%s)", got.Status.Phase, cond, tc.wantPhase, tc.wantReason)
			}
			pod, _ := h.rt.Get("ns", "a")
			if tc.wantPhase == arlv1alpha1.SandboxReady {
				if !pod.Resized || pod.Sandbox != "sb" {
					t.Fatalf("pod a is %+v, want it resized for sb", pod)
				}
				return
			}
			if pod.State != PodIdle || pod.Resized {
				t.Fatalf("pod a is %+v, want it idle and unchanged", pod)
			}
		})
	}
}

func statusCode(err error) int32 {
	if s, ok := err.(apierrors.APIStatus); ok {
		return s.Status().Code
	}
	return 0
}

func findReady(s *arlv1alpha1.Sandbox) *metav1.Condition {
	for i := range s.Status.Conditions {
		if s.Status.Conditions[i].Type == arlv1alpha1.SandboxConditionReady {
			return &s.Status.Conditions[i]
		}
	}
	return nil
}

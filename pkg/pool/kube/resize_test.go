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

package kube

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/pkg/pool"
)

// TestResizeDone: a resize is done once the kubelet's status has seen its
// generation with nothing pending or in progress; Infeasible and Error on
// this generation end the wait, the same on an earlier one does not.
func TestResizeDone(t *testing.T) {
	cond := func(typ corev1.PodConditionType, reason string, generation int64) corev1.PodCondition {
		return corev1.PodCondition{Type: typ, Status: corev1.ConditionTrue, Reason: reason, Message: "m", ObservedGeneration: generation}
	}
	for _, tc := range []struct {
		name       string
		observed   int64
		conditions []corev1.PodCondition
		wantDone   bool
		wantErr    error // nil: none
		anyErr     bool  // any error will do
	}{
		{name: "kubelet has not seen it", observed: 1},
		{name: "seen, nothing pending", observed: 2, wantDone: true},
		{name: "in progress", observed: 2, conditions: []corev1.PodCondition{cond(corev1.PodResizeInProgress, "", 2)}},
		{name: "deferred: waits", observed: 2, conditions: []corev1.PodCondition{cond(corev1.PodResizePending, corev1.PodReasonDeferred, 2)}},
		{name: "infeasible", observed: 2, conditions: []corev1.PodCondition{cond(corev1.PodResizePending, corev1.PodReasonInfeasible, 2)},
			wantErr: pool.ErrResizeInfeasible},
		{name: "infeasible for an earlier generation: waits", observed: 1,
			conditions: []corev1.PodCondition{cond(corev1.PodResizePending, corev1.PodReasonInfeasible, 1)}},
		{name: "the kubelet failed", observed: 2, conditions: []corev1.PodCondition{cond(corev1.PodResizeInProgress, corev1.PodReasonError, 2)},
			anyErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Status: corev1.PodStatus{ObservedGeneration: tc.observed, Conditions: append([]corev1.PodCondition{
				{Type: corev1.PodReady, Status: corev1.ConditionTrue}}, tc.conditions...)}}
			done, why, err := resizeDone(pod, 2)
			wantErr := tc.wantErr != nil || tc.anyErr
			switch {
			case wantErr != (err != nil), tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("err %v, want %v (any: %v)", err, tc.wantErr, tc.anyErr)
			case done != tc.wantDone:
				t.Fatalf("done %v (%s), want %v", done, why, tc.wantDone)
			case !done && err == nil && why == "":
				t.Fatal("waiting without saying for what")
			}
		})
	}
}

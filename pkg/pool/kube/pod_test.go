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
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

func TestFailure(t *testing.T) {
	waiting := func(reason string) *corev1.Pod {
		return &corev1.Pod{
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever},
			Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
				Name: arl.ExecutorContainerName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "why"}},
			}}},
		}
	}
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		reason string
	}{
		{"starting", waiting("ContainerCreating"), ""},
		{"pulling fails", waiting("ErrImagePull"), "ErrImagePull"},
		{"pull backoff", waiting("ImagePullBackOff"), "ImagePullBackOff"},
		// A missing image with imagePullPolicy Never never appears by itself.
		{"never pull", waiting("ErrImageNeverPull"), "ErrImageNeverPull"},
		{"bad name", waiting("InvalidImageName"), "InvalidImageName"},
		{"pod failed", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}}, "Evicted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reason, message := failure(tc.pod)
			if reason != tc.reason || (reason != "" && message == "") {
				t.Errorf("failure() = %q, %q; want reason %q", reason, message, tc.reason)
			}
		})
	}
}

// TestNotReadySince: a pod that is not Ready says since when, from its
// Ready condition; a Ready one says nothing.
func TestNotReadySince(t *testing.T) {
	since := metav1.NewTime(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	pod := func(status corev1.ConditionStatus) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{PodIP: "10.0.0.9", Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: since}}}}
	}
	if got := toPod(pod(corev1.ConditionFalse)); got.Ready || !got.NotReadySince.Equal(since.Time) {
		t.Errorf("unready pod: Ready %v, NotReadySince %v, want false, %v", got.Ready, got.NotReadySince, since.Time)
	}
	if got := toPod(pod(corev1.ConditionTrue)); !got.Ready || !got.NotReadySince.IsZero() {
		t.Errorf("Ready pod: Ready %v, NotReadySince %v, want true, zero", got.Ready, got.NotReadySince)
	}
}

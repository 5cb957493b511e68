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

package pod

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
)

// defaultContainerAnnotation is what kubectl exec and logs pick a
// container by when none is named.
const defaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// toPod describes a local pool pod as a core/v1 Pod: its pool's labels,
// one container (the executor, where the agent runs commands), and a phase
// from what the pool knows (Running once its agent answers).
func toPod(p *pool.Pod) *corev1.Pod {
	labels := map[string]string{arl.LabelPool: p.Pool, arl.LabelState: string(p.State)}
	if p.Sandbox != "" {
		labels[arl.LabelSandbox] = p.Sandbox
	}
	if p.TemplateHash != "" {
		labels[arl.LabelTemplateHash] = p.TemplateHash
	}
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{
			Name:              p.Name,
			Namespace:         p.Namespace,
			UID:               p.UID,
			ResourceVersion:   p.Version,
			CreationTimestamp: metav1.NewTime(p.Created),
			Labels:            labels,
			Annotations:       map[string]string{defaultContainerAnnotation: arl.ExecutorContainerName},
		},
		Spec: corev1.PodSpec{
			NodeName:   p.Node,
			Containers: []corev1.Container{{Name: arl.ExecutorContainerName}},
		},
		Status: corev1.PodStatus{PodIP: p.IP},
	}
	if p.Terminating {
		deleted := metav1.Now()
		pod.DeletionTimestamp = &deleted
	}
	ready := corev1.ConditionFalse
	state := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}
	switch {
	case p.Failed:
		pod.Status.Phase, pod.Status.Reason, pod.Status.Message = corev1.PodFailed, p.FailureReason, p.FailureMessage
		state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: p.FailureReason, Message: p.FailureMessage}}
	case p.Ready:
		pod.Status.Phase, ready = corev1.PodRunning, corev1.ConditionTrue
		state = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(p.Created)}}
	default:
		pod.Status.Phase = corev1.PodPending
	}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready}}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
		Name: arl.ExecutorContainerName, Ready: ready == corev1.ConditionTrue, State: state,
	}}
	return pod
}

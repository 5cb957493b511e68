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
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
)

// Container waiting reasons that mean the pod will not become Ready by
// itself: the pool replaces such a pod (with backoff). The image reasons
// are kubelet's (pkg/kubelet/images): ErrImageNeverPull is what a missing
// image with imagePullPolicy Never (or a node without a registry) gives.
var stuckReasons = map[string]bool{
	"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true,
	"ErrImageNeverPull": true, "ImageInspectError": true,
	"CrashLoopBackOff": true, "CreateContainerConfigError": true,
	"CreateContainerError": true, "RunContainerError": true,
}

// toPod is the pool's view of a Kubernetes pod.
func toPod(p *corev1.Pod) *pool.Pod {
	out := &pool.Pod{
		Namespace:    p.Namespace,
		Name:         p.Name,
		UID:          p.UID,
		Version:      p.ResourceVersion,
		Pool:         p.Labels[arl.LabelPool],
		State:        pool.PodState(p.Labels[arl.LabelState]),
		Sandbox:      p.Labels[arl.LabelSandbox],
		TemplateHash: p.Labels[arl.LabelTemplateHash],
		Terminating:  p.DeletionTimestamp != nil,
		// Only a resize changes a pool pod's spec (its generation) after
		// create; such a pod is not the template's any more.
		Resized: p.Generation > 1,
		IP:      p.Status.PodIP,
		Node:    p.Spec.NodeName,
		Created: p.CreationTimestamp.Time,
	}
	if at, err := time.Parse(time.RFC3339Nano, p.Annotations[AnnotationClaimedAt]); err == nil {
		out.ClaimedAt = at
	}
	for _, c := range p.Status.Conditions {
		if c.Type != corev1.PodReady {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			out.Ready = p.Status.PodIP != ""
		} else {
			out.NotReadySince = c.LastTransitionTime.Time
		}
	}
	out.FailureReason, out.FailureMessage = failure(p)
	out.Failed = out.FailureReason != ""
	if out.Failed {
		out.Ready = false
	}
	return out
}

// failure says why a pod will never serve, or "" when it may.
func failure(p *corev1.Pod) (string, string) {
	switch p.Status.Phase {
	case corev1.PodFailed, corev1.PodSucceeded:
		reason := p.Status.Reason
		if reason == "" {
			reason = "Pod" + string(p.Status.Phase)
		}
		msg := p.Status.Message
		if msg == "" {
			msg = "the pod's containers ended"
		}
		return reason, msg
	}
	statuses := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
	for _, s := range statuses {
		if w := s.State.Waiting; w != nil && stuckReasons[w.Reason] {
			return w.Reason, fmt.Sprintf("container %s: %s", s.Name, w.Message)
		}
		if t := s.State.Terminated; t != nil && s.Name != arl.InstallContainerName && p.Spec.RestartPolicy == corev1.RestartPolicyNever {
			return "ContainerExited", fmt.Sprintf("container %s exited with code %d (%s)", s.Name, t.ExitCode, t.Reason)
		}
	}
	return "", ""
}

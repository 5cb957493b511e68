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
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
)

var _ pool.Resizer = &Runtime{}

// resizePoll is how often a resize's progress is read from the informer.
const resizePoll = 20 * time.Millisecond

// Resize implements pool.Resizer: in-place pod resize (the pods/resize
// subresource), then it waits for the kubelet to have run it: the pod's
// status has seen the resized generation and no resize is pending or in
// progress. Every pool pod is Burstable (the sidecar requests resources),
// so no resize changes a pod's QoS class, which Kubernetes forbids.
func (r *Runtime) Resize(ctx context.Context, p *pool.Pod, resources corev1.ResourceRequirements) error {
	current, err := r.lister.Pods(p.Namespace).Get(p.Name)
	if err != nil {
		return err
	}
	executor := arl.ExecutorContainer(&current.Spec)
	if executor == nil {
		return fmt.Errorf("pod %s has no executor container", p.Name)
	}
	patch, err := json.Marshal(map[string]interface{}{"spec": map[string]interface{}{"containers": []interface{}{
		map[string]interface{}{"name": executor.Name, "resources": map[string]interface{}{
			"requests": resources.Requests, "limits": resources.Limits}},
	}}})
	if err != nil {
		return err
	}
	resized, err := r.opts.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "resize")
	if err != nil {
		return err
	}
	waiting := "the pod's status has not been read yet"
	err = wait.PollUntilContextCancel(ctx, resizePoll, true, func(context.Context) (bool, error) {
		pod, err := r.lister.Pods(p.Namespace).Get(p.Name)
		if err != nil || pod.UID != resized.UID {
			return false, fmt.Errorf("pod %s is gone", p.Name)
		}
		done, why, err := resizeDone(pod, resized.Generation)
		waiting = why
		return done, err
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w: %s", ctx.Err(), waiting)
	}
	return err
}

// resizeDone says whether the kubelet has run a pod's resize to
// generation; why says what it waits for, err that it never will.
func resizeDone(pod *corev1.Pod, generation int64) (done bool, why string, err error) {
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.PodResizePending && c.Type != corev1.PodResizeInProgress {
			continue
		}
		// A verdict on an earlier generation is not one on this resize.
		current := c.ObservedGeneration >= generation
		switch {
		case current && c.Type == corev1.PodResizePending && c.Reason == corev1.PodReasonInfeasible:
			return false, "", fmt.Errorf("%w: %s", pool.ErrResizeInfeasible, c.Message)
		case current && c.Type == corev1.PodResizeInProgress && c.Reason == corev1.PodReasonError:
			return false, "", fmt.Errorf("the kubelet failed to resize the pod: %s", c.Message)
		}
		return false, fmt.Sprintf("%s %s %s", c.Type, c.Reason, c.Message), nil
	}
	if pod.Status.ObservedGeneration < generation {
		return false, fmt.Sprintf("the kubelet has not seen generation %d (it has seen %d)", generation, pod.Status.ObservedGeneration), nil
	}
	return true, "", nil
}

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
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// errStale says a Sandbox is no longer in the state a status write expected.
var errStale = errors.New("sandbox changed")

// bindPending hands the pool's Ready idle pods to its Pending Sandboxes,
// oldest first, and returns how many Sandboxes still wait.
func (c *Controller) bindPending(ctx context.Context, pool *arlv1alpha1.WarmPool, sandboxes map[string]*arlv1alpha1.Sandbox, pods *poolPods, now time.Time) int {
	var pending []*arlv1alpha1.Sandbox
	for _, s := range sandboxes {
		if s.Status.Phase == arlv1alpha1.SandboxPending && s.DeletionTimestamp == nil {
			pending = append(pending, s)
		}
	}
	sort.Slice(pending, func(i, j int) bool {
		return pending[i].CreationTimestamp.Before(&pending[j].CreationTimestamp)
	})
	waiting := 0
	for _, sandbox := range pending {
		// A Sandbox created before its pool was has not had its resources
		// checked against the pool's template yet.
		resources, resize, errs := executorResources(pool, sandbox.Spec.Resources)
		if len(errs) > 0 {
			c.failSandbox(ctx, sandbox, ReasonResizeFailed, errs.ToAggregate().Error())
			continue
		}
		pod := c.claimFor(ctx, pods, sandbox.Name)
		if pod == nil {
			waiting++
			c.markWaiting(ctx, sandbox, pool.Name, now)
			continue
		}
		if resize {
			if err := c.binder.resize(ctx, pod, resources); err != nil {
				c.failSandbox(ctx, sandbox, ReasonResizeFailed, fmt.Sprintf("pod %s could not be resized: %v", pod.Name, err))
				continue
			}
		}
		status := boundStatus(pod, c.runtime.Address(pod), now)
		status.BindDuration = &metav1.Duration{Duration: now.Sub(sandbox.CreationTimestamp.Time)}
		c.binds.expectWaited(sandbox.UID)
		err := c.updateSandboxStatus(ctx, sandbox, func(s *arlv1alpha1.Sandbox) error {
			if s.Status.Phase != arlv1alpha1.SandboxPending {
				return errStale
			}
			return arlv1alpha1.Convert_arl_SandboxStatus_To_v1alpha1_SandboxStatus(&status, &s.Status, nil)
		})
		if err != nil {
			klog.FromContext(ctx).V(2).Info("Could not bind a pending Sandbox; returning its pod", "sandbox", klog.KObj(sandbox), "err", err)
			c.binder.reclaim(ctx, pod, "", "its Sandbox could not take it")
			continue
		}
		pods.allocated = append(pods.allocated, pod)
		ObserveBind(sandbox.Namespace, pool.Name, BindWaited, now.Sub(sandbox.CreationTimestamp.Time))
		c.recordSandbox(sandbox, corev1.EventTypeNormal, EventBound, "Bound pod %s from WarmPool %s", pod.Name, pool.Name)
	}
	return waiting
}

// claimFor claims a Ready idle pod of the pool for sandbox, removing it
// from pods.idle; nil when none is left.
func (c *Controller) claimFor(ctx context.Context, pods *poolPods, sandbox string) *Pod {
	for i := 0; i < len(pods.idle); {
		pod := pods.idle[i]
		if !pod.Bindable() {
			i++
			continue
		}
		pods.idle = append(pods.idle[:i:i], pods.idle[i+1:]...)
		claimed, err := c.runtime.Claim(ctx, pod, sandbox)
		if err == nil {
			return claimed
		}
		if !errors.Is(err, ErrConflict) {
			klog.FromContext(ctx).Error(err, "Claiming a pod failed", "pod", klog.KRef(pod.Namespace, pod.Name))
		}
	}
	return nil
}

// markWaiting says why a Sandbox of an existing pool still waits, once.
func (c *Controller) markWaiting(ctx context.Context, sandbox *arlv1alpha1.Sandbox, pool string, now time.Time) {
	if cond := meta.FindStatusCondition(sandbox.Status.Conditions, arlv1alpha1.SandboxConditionReady); cond != nil && cond.Reason == ReasonWaitingForPod {
		return
	}
	_ = c.updateSandboxStatus(ctx, sandbox, func(s *arlv1alpha1.Sandbox) error {
		if s.Status.Phase != arlv1alpha1.SandboxPending {
			return errStale
		}
		meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{Type: arlv1alpha1.SandboxConditionReady, Status: metav1.ConditionFalse,
			Reason: ReasonWaitingForPod, Message: fmt.Sprintf("WarmPool %q is starting a pod for this Sandbox", pool),
			LastTransitionTime: metav1.NewTime(now)})
		return nil
	})
}

// failLostSandboxes fails Ready Sandboxes whose pod is gone or failed.
// Their pods are the pool's pods the sync listed: one runtime Get per
// Sandbox made each sync of a pool with 10,000 Sandboxes spend most of its
// time building pods' views a second time (make test-scale).
func (c *Controller) failLostSandboxes(ctx context.Context, sandboxes map[string]*arlv1alpha1.Sandbox, pods []*Pod) {
	byName := make(map[string]*Pod, len(pods))
	for _, pod := range pods {
		byName[pod.Name] = pod
	}
	for _, sandbox := range sandboxes {
		if sandbox.Status.Phase != arlv1alpha1.SandboxReady || sandbox.DeletionTimestamp != nil {
			continue
		}
		pod, ok := byName[sandbox.Status.PodName]
		switch {
		case !ok || pod.UID != sandbox.Status.PodUID:
			c.failSandbox(ctx, sandbox, ReasonPodLost, fmt.Sprintf("pod %s no longer exists", sandbox.Status.PodName))
		case pod.Failed:
			c.failSandbox(ctx, sandbox, ReasonPodLost, fmt.Sprintf("pod %s failed: %s: %s", pod.Name, pod.FailureReason, pod.FailureMessage))
		case pod.Terminating:
			c.failSandbox(ctx, sandbox, ReasonPodLost, fmt.Sprintf("pod %s is being deleted", pod.Name))
		}
	}
}

// failSandbox marks a Sandbox Failed with a reason; its pod is not reused.
func (c *Controller) failSandbox(ctx context.Context, sandbox *arlv1alpha1.Sandbox, reason, message string) {
	now := c.now()
	err := c.updateSandboxStatus(ctx, sandbox, func(s *arlv1alpha1.Sandbox) error {
		if s.Status.Phase == arlv1alpha1.SandboxFailed {
			return errStale
		}
		s.Status.Phase = arlv1alpha1.SandboxFailed
		meta.SetStatusCondition(&s.Status.Conditions, metav1.Condition{Type: arlv1alpha1.SandboxConditionReady, Status: metav1.ConditionFalse,
			Reason: reason, Message: message, LastTransitionTime: metav1.NewTime(now)})
		return nil
	})
	if err == nil {
		c.recordSandbox(sandbox, corev1.EventTypeWarning, reason, "%s", message)
	}
}

// updateSandboxStatus re-reads a Sandbox, applies mutate and writes its
// status, retrying on conflicts. mutate returns errStale to skip the write.
func (c *Controller) updateSandboxStatus(ctx context.Context, sandbox *arlv1alpha1.Sandbox, mutate func(*arlv1alpha1.Sandbox) error) error {
	client := c.cfg.Client.Sandboxes(sandbox.Namespace)
	current := sandbox.DeepCopy()
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := mutate(current); err != nil {
			return err
		}
		_, err := client.UpdateStatus(ctx, current, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			fresh, getErr := client.Get(ctx, sandbox.Name, metav1.GetOptions{})
			if getErr != nil {
				return getErr
			}
			current = fresh
		}
		return err
	})
}

func (c *Controller) recordSandbox(sandbox *arlv1alpha1.Sandbox, eventType, reason, format string, args ...interface{}) {
	if c.cfg.Recorder != nil && c.cfg.SandboxEvents.Records(eventType) {
		c.cfg.Recorder.Eventf(sandbox, eventType, reason, format, args...)
	}
}

// Bound reports a bind made on the create path, for the Sandbox's events
// and metrics.
func (c *Controller) Bound(sandbox *arl.Sandbox, took time.Duration) {
	ObserveBind(sandbox.Namespace, sandbox.Spec.PoolRef, BindWarm, took)
	if c.cfg.Recorder == nil || sandbox.Status.PodName == "" || !c.cfg.SandboxEvents.Records(corev1.EventTypeNormal) {
		return
	}
	ref := &corev1.ObjectReference{Kind: "Sandbox", APIVersion: arlv1alpha1.SchemeGroupVersion.String(),
		Namespace: sandbox.Namespace, Name: sandbox.Name, UID: sandbox.UID, ResourceVersion: sandbox.ResourceVersion}
	c.cfg.Recorder.Eventf(ref, corev1.EventTypeNormal, EventBound, "Bound pod %s from WarmPool %s", sandbox.Status.PodName, sandbox.Spec.PoolRef)
}

// BindFailed reports a Sandbox create that failed after its bind was
// tried (for the metrics).
func (c *Controller) BindFailed(sandbox *arl.Sandbox, took time.Duration) {
	ObserveBind(sandbox.Namespace, sandbox.Spec.PoolRef, BindFailed, took)
}

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
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// Event reasons of Sandbox expiry.
const (
	EventIdleTimeout = "IdleTimeout"
	EventMaxLifetime = "MaxLifetimeReached"
)

// lifecycleInterval is how often Sandbox timeouts are checked.
const lifecycleInterval = time.Second

func (c *Controller) runLifecycle(ctx context.Context) {
	c.every(ctx, lifecycleInterval, c.expireSandboxes)
}

// expireSandboxes deletes Sandboxes past their idle timeout or maximum
// lifetime, never while one of their Tasks is pending or running. Idleness
// counts from status.lastActivityTime, which the executor keeps current
// for Sandboxes with an idle timeout.
func (c *Controller) expireSandboxes(ctx context.Context) {
	if c.storeErr() != nil {
		return
	}
	sandboxes, err := c.sandboxes.List(labels.Everything())
	if err != nil {
		return
	}
	now := c.now()
	for _, sandbox := range sandboxes {
		spec := sandbox.Spec
		if (spec.IdleTimeoutSeconds == nil && spec.MaxLifetimeSeconds == nil) || sandbox.DeletionTimestamp != nil {
			continue
		}
		var reason, message string
		if limit := spec.MaxLifetimeSeconds; limit != nil && now.Sub(sandbox.CreationTimestamp.Time) >= seconds(*limit) {
			reason, message = EventMaxLifetime, fmt.Sprintf("deleted: older than maxLifetimeSeconds (%d)", *limit)
		} else if limit := spec.IdleTimeoutSeconds; limit != nil && now.Sub(lastActivity(sandbox)) >= seconds(*limit) {
			reason, message = EventIdleTimeout, fmt.Sprintf("deleted: no Task for idleTimeoutSeconds (%d)", *limit)
		}
		if reason == "" || c.busy(ctx, sandbox) {
			continue
		}
		c.recordSandbox(sandbox, corev1.EventTypeNormal, reason, "%s", message)
		err := c.cfg.Client.Sandboxes(sandbox.Namespace).Delete(ctx, sandbox.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(sandbox.UID))})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			klog.FromContext(ctx).Error(err, "Deleting an expired Sandbox failed", "sandbox", klog.KObj(sandbox))
		}
	}
}

// lastActivity is when a Sandbox last bound or ran a Task.
func lastActivity(sandbox *arlv1alpha1.Sandbox) time.Time {
	last := sandbox.CreationTimestamp.Time
	for _, t := range []*metav1.Time{sandbox.Status.BoundTime, sandbox.Status.LastActivityTime} {
		if t != nil && t.After(last) {
			last = t.Time
		}
	}
	return last
}

// busy says whether a Sandbox has a Task pending or running: asked of the
// server (it filters) only for a Sandbox about to expire, so the pool does
// not have to watch every Task.
func (c *Controller) busy(ctx context.Context, sandbox *arlv1alpha1.Sandbox) bool {
	tasks, err := c.cfg.Client.Tasks(sandbox.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.AndSelectors(
			fields.OneTermEqualSelector("spec.sandboxRef", sandbox.Name),
			fields.OneTermNotEqualSelector("status.state", string(arlv1alpha1.TaskSucceeded)),
			fields.OneTermNotEqualSelector("status.state", string(arlv1alpha1.TaskFailed)),
		).String(),
	})
	// Unsure means busy: never cut a Task.
	return err != nil || len(tasks.Items) > 0
}

func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }

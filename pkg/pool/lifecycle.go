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
	"k8s.io/apimachinery/pkg/util/wait"
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
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		c.expireSandboxes(ctx)
		c.expireTasks(ctx)
	}, lifecycleInterval)
}

// expireTasks deletes finished Tasks past their ttlSecondsAfterFinished.
func (c *Controller) expireTasks(ctx context.Context) {
	tasks, err := c.tasks.List(labelsEverything)
	if err != nil {
		return
	}
	now := c.now()
	for _, task := range tasks {
		ttl, done := task.Spec.TTLSecondsAfterFinished, task.Status.CompletionTime
		if ttl == nil || done == nil || now.Sub(done.Time) < seconds(*ttl) || task.DeletionTimestamp != nil {
			continue
		}
		err := c.cfg.Client.Tasks(task.Namespace).Delete(ctx, task.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(task.UID))})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			klog.FromContext(ctx).Error(err, "Deleting a finished Task past its TTL failed", "task", klog.KObj(task))
		}
	}
}

// taskActivity is what the Tasks of one Sandbox are doing.
type taskActivity struct {
	busy bool // a Task is Pending or Running
	last time.Time
}

// expireSandboxes deletes Sandboxes past their idle timeout or maximum
// lifetime, never while one of their Tasks is pending or running.
func (c *Controller) expireSandboxes(ctx context.Context) {
	sandboxes, err := c.sandboxes.List(labelsEverything)
	if err != nil {
		return
	}
	var activity map[string]*taskActivity
	now := c.now()
	for _, sandbox := range sandboxes {
		spec := sandbox.Spec
		if (spec.IdleTimeoutSeconds == nil && spec.MaxLifetimeSeconds == nil) || sandbox.DeletionTimestamp != nil {
			continue
		}
		if activity == nil {
			activity = c.taskActivity()
		}
		act := activity[sandbox.Namespace+"/"+sandbox.Name]
		if act != nil && act.busy {
			continue
		}
		var reason, message string
		if limit := spec.MaxLifetimeSeconds; limit != nil && now.Sub(sandbox.CreationTimestamp.Time) >= seconds(*limit) {
			reason, message = EventMaxLifetime, fmt.Sprintf("deleted: older than maxLifetimeSeconds (%d)", *limit)
		} else if limit := spec.IdleTimeoutSeconds; limit != nil {
			last := sandbox.CreationTimestamp.Time
			if t := sandbox.Status.LastActivityTime; t != nil && t.After(last) {
				last = t.Time
			}
			if act != nil && act.last.After(last) {
				last = act.last
			}
			if now.Sub(last) >= seconds(*limit) {
				reason, message = EventIdleTimeout, fmt.Sprintf("deleted: no Task for idleTimeoutSeconds (%d)", *limit)
			}
		}
		if reason == "" {
			continue
		}
		c.recordSandbox(sandbox, corev1.EventTypeNormal, reason, "%s", message)
		err := c.cfg.Client.Sandboxes(sandbox.Namespace).Delete(ctx, sandbox.Name, metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(sandbox.UID))})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			klog.FromContext(ctx).Error(err, "Deleting an expired Sandbox failed", "sandbox", klog.KObj(sandbox))
		}
	}
}

// taskActivity summarises every Sandbox's Tasks from the cache.
func (c *Controller) taskActivity() map[string]*taskActivity {
	tasks, _ := c.tasks.List(labelsEverything)
	out := map[string]*taskActivity{}
	for _, task := range tasks {
		key := task.Namespace + "/" + task.Spec.SandboxRef
		act := out[key]
		if act == nil {
			act = &taskActivity{}
			out[key] = act
		}
		switch task.Status.State {
		case arlv1alpha1.TaskPending, arlv1alpha1.TaskRunning, "":
			act.busy = true
		}
		for _, t := range []*metav1.Time{task.Status.StartTime, task.Status.CompletionTime} {
			if t != nil && t.After(act.last) {
				act.last = t.Time
			}
		}
	}
	return out
}

func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }

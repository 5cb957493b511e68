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

package executor

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// A keepAlive: false Sandbox serves every Task it is given while any of
// them is Pending or Running, and is deleted when the last one finishes:
// an accepted Task never fails because its Sandbox was one-shot. A Task
// created after that deletion fails with SandboxNotFound.
//
// On this replica the decision is exact: while finishOneShot looks for
// Tasks left (its queue, then the store), the queue is closing and Admit
// waits for the outcome rather than accept a Task into a Sandbox about to
// go. Across replicas it is as exact as Task order is (docs/architecture.md):
// a Task another replica stores between the store read and the delete is
// not seen.

// oneShotGoneMessage is the message of a Task created for a one-shot
// Sandbox that was deleted, when the cache still shows it Ready.
func oneShotGoneMessage(name string) string {
	return fmt.Sprintf("Sandbox %q was deleted: its keepAlive is false and its Tasks had finished", name)
}

// finishOneShot deletes a keepAlive: false Sandbox once none of its Tasks
// is Pending or Running; finished is the Task that just ended (its own
// result may not have reached the store this replica lists).
func (e *Executor) finishOneShot(sandbox *arl.Sandbox, finished string) {
	sbKey := taskKey(sandbox.Namespace, sandbox.Name)
	e.mu.Lock()
	q := e.queue(sbKey)
	if q.busy || len(q.waiting) > 0 || q.admitting > 0 || q.closing != nil {
		// A Task of this replica is still to run: the last one deletes.
		e.mu.Unlock()
		return
	}
	closing := make(chan struct{})
	q.closing = closing
	e.mu.Unlock()

	deleted := e.deleteIfIdle(sandbox, finished)

	e.mu.Lock()
	q.closing = nil
	if deleted {
		q.goneUID, q.goneAt = sandbox.UID, e.cfg.Clock.Now()
	}
	e.mu.Unlock()
	close(closing)
}

// deleteIfIdle deletes the Sandbox unless the store holds a Task of it,
// other than finished, that is Pending or Running (another replica runs
// it, and deletes the Sandbox when it ends).
func (e *Executor) deleteIfIdle(sandbox *arl.Sandbox, finished string) bool {
	ctx := genericapirequest.WithNamespace(e.lifetime(), sandbox.Namespace)
	logger := klog.Background().WithValues("sandbox", klog.KObj(sandbox))
	// A quorum read: a Task another replica stored a moment ago counts.
	obj, err := e.tasks.List(ctx, &metainternalversion.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.sandboxRef", sandbox.Name),
	})
	if err != nil {
		logger.Error(err, "Listing a one-shot Sandbox's Tasks failed; the Sandbox stays until its next Task ends")
		return false
	}
	for i := range obj.(*arl.TaskList).Items {
		task := &obj.(*arl.TaskList).Items[i]
		if task.Name != finished && !task.Status.State.IsFinished() {
			logger.V(2).Info("One-shot Sandbox kept: a Task of it is left", "task", task.Name, "state", task.Status.State)
			return false
		}
	}
	_, _, err = e.sandboxes.Delete(ctx, sandbox.Name, rest.ValidateAllObjectFunc, &metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(sandbox.UID))})
	switch {
	case err == nil:
		logger.V(2).Info("One-shot Sandbox deleted: its Tasks have finished", "task", finished)
		return true
	case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		return true
	default:
		logger.Error(err, "Deleting a one-shot Sandbox after its Tasks failed", "task", finished)
		return false
	}
}

// awaitOneShot waits, with e.mu held on entry and exit, until the queue of
// sbKey is not closing. It reports whether the Sandbox of uid was deleted
// as one-shot meanwhile (or before: the cache that Admit read may lag).
func (e *Executor) awaitOneShot(ctx context.Context, q *sandboxQueue, uid types.UID) (gone bool, err error) {
	for q.closing != nil {
		closing := q.closing
		e.mu.Unlock()
		select {
		case <-closing:
		case <-ctx.Done():
			e.mu.Lock()
			return false, ctx.Err()
		}
		e.mu.Lock()
	}
	return q.goneUID != "" && q.goneUID == uid, nil
}

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
	"errors"
	"math/rand/v2"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// ttlSweepEvery (seconds) is how often every replica looks for finished
// Tasks past their TTL that no timer of its own covers (after a restart,
// or Tasks another replica ran). A sweep lists every Task from the watch
// cache: at 100,000 Tasks a 50 MB list, 0.8 CPU s of zeroing it and a
// garbage collection of a 500 MB heap. Every 30 s that was 15-30 % of each
// replica's CPU (make test-scale); the Tasks a sweep finds were left by a
// replica that is gone, and may wait minutes more.
const ttlSweepEvery = 5 * 60

// ttlSweepGrace is how long past its TTL a Task is left to the timer of
// the replica that ran it before every replica's sweep takes it too. With
// none, each of 3 replicas queued every expired Task, and read each from
// etcd to find it gone: deletes fell to a third (make test-scale).
const ttlSweepGrace = time.Minute

// ttlDeleters bound the deletes of expired Tasks in flight on a replica.
// Expired Tasks are background work: one at a time, a replica's deletes
// slow down as the store and the CPU get busy instead of competing with
// binds. Tasks made at fleet rates expire by the hundred per second: a
// delete each at once, then 4 at a time, took the whole machine while
// 100,000 expired, and binds waited seconds (make test-scale).
const ttlDeleters = 1

// expiredTask is what a delete of an expired Task needs; the queue holds
// it once however many timers and sweeps found it.
type expiredTask struct {
	namespace, name string
	uid             types.UID
	traceID         string
}

func expiredOf(task *arl.Task) expiredTask {
	return expiredTask{namespace: task.Namespace, name: task.Name, uid: task.UID, traceID: task.Spec.TraceID}
}

// expireLater deletes a finished Task when its ttlSecondsAfterFinished ends.
func (e *Executor) expireLater(task *arl.Task) {
	ttl := task.Spec.TTLSecondsAfterFinished
	if ttl == nil {
		return
	}
	// The timer holds what the delete needs, not the Task and its output.
	expired := expiredOf(task)
	e.cfg.Clock.AfterFunc(time.Duration(*ttl)*time.Second, func() { e.expired.Add(expired) })
}

// finished counts a Task that finished here and sets its TTL's timer.
// It is the start of a Task that finished as it was stored (its Sandbox
// missing, failed or going), which is deleted when its TTL ends like any
// other: without the timer only a sweep, minutes later, found it, every
// replica's sweep alike, each reading it again to delete it (make
// test-scale's 100,000 Tasks are of this kind).
func (e *Executor) finished(task *arl.Task) {
	observeFinished(task)
	if task != nil {
		e.expireLater(task)
	}
}

// sweepExpired queues the finished Tasks past their TTL and its grace,
// from the cache, for deletion, in a random order: replicas sweeping the
// same backlog then mostly delete different Tasks.
func (e *Executor) sweepExpired(ctx context.Context) {
	obj, err := e.tasks.List(ctx, &metainternalversion.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return
	}
	now := e.cfg.Clock.Now()
	var found []expiredTask
	for i := range obj.(*arl.TaskList).Items {
		task := &obj.(*arl.TaskList).Items[i]
		ttl, done := task.Spec.TTLSecondsAfterFinished, task.Status.CompletionTime
		if ttl != nil && done != nil && now.Sub(done.Time) >= time.Duration(*ttl)*time.Second+ttlSweepGrace {
			found = append(found, expiredOf(task))
		}
	}
	rand.Shuffle(len(found), func(i, j int) { found[i], found[j] = found[j], found[i] })
	for _, expired := range found {
		e.expired.Add(expired)
	}
}

// deleteExpired deletes queued expired Tasks until the queue shuts down.
func (e *Executor) deleteExpired() {
	for {
		expired, shutdown := e.expired.Get()
		if shutdown {
			return
		}
		e.deleteTask(expired)
		e.expired.Done(expired)
	}
}

// deleteTask deletes an expired Task, at the pace of ttlPace.
func (e *Executor) deleteTask(expired expiredTask) {
	ctx := genericapirequest.WithNamespace(e.lifetime(), expired.namespace)
	// The cache first: a Task another replica deleted since it was queued
	// costs no read from etcd (the delete's own Get is a quorum read), and
	// no turn of the pace: every replica's sweep queues every expired Task.
	cached, err := e.tasks.Get(ctx, expired.name, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) || (err == nil && cached.(*arl.Task).UID != expired.uid) {
		return
	}
	e.ttlPace.Accept()
	_, _, err = e.tasks.Delete(ctx, expired.name, rest.ValidateAllObjectFunc, &metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(expired.uid))})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		logger := klog.Background().WithValues("task", klog.KRef(expired.namespace, expired.name))
		if expired.traceID != "" {
			logger = logger.WithValues("traceID", expired.traceID)
		}
		logger.Error(err, "Deleting a finished Task past its TTL failed")
	}
}

// touch records a finished Task as the Sandbox's latest activity, which its
// idle timeout counts from. Only Sandboxes with an idle timeout pay the
// write, at most once per quarter of that timeout.
func (e *Executor) touch(sandbox *arl.Sandbox) {
	limit := sandbox.Spec.IdleTimeoutSeconds
	if limit == nil {
		return
	}
	now := e.metaNow()
	every := time.Duration(*limit) * time.Second / 4
	ctx := genericapirequest.WithNamespace(e.lifetime(), sandbox.Namespace)
	_, _, err := e.sandboxStatus.Update(ctx, sandbox.Name, rest.DefaultUpdatedObjectInfo(nil, func(_ context.Context, _, old runtime.Object) (runtime.Object, error) {
		current := old.(*arl.Sandbox)
		if last := current.Status.LastActivityTime; last != nil && now.Sub(last.Time) < every {
			return nil, errActivityRecent
		}
		updated := current.DeepCopy()
		updated.Status.LastActivityTime = &now
		return updated, nil
	}), nil, nil, false, &metav1.UpdateOptions{})
	if err != nil && !errors.Is(err, errActivityRecent) && !apierrors.IsNotFound(err) {
		klog.ErrorS(err, "Recording a Sandbox's activity failed", "sandbox", klog.KObj(sandbox))
	}
}

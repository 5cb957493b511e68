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
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// ReleaseWithDelete returns the context for a Sandbox delete, single or of
// a collection (see ReleaseSlot): where the runtime can, a pod its pool
// reuses is reset before the delete's transaction and its claim goes with
// the Sandbox. done must be called when the delete returns.
func (c *Controller) ReleaseWithDelete(ctx context.Context) (_ context.Context, done func()) {
	return c.binder.ReleaseWithDelete(ctx)
}

// ReleaseWithDelete is Controller.ReleaseWithDelete. A collection delete
// deletes its Sandboxes concurrently, in one context.
func (b *Binder) ReleaseWithDelete(ctx context.Context) (_ context.Context, done func()) {
	var mu sync.Mutex
	var prepared []types.UID
	ctx = WithReleaseSlot(ctx, func(ctx context.Context, sandbox *arl.Sandbox) any {
		release := b.resetForDelete(ctx, sandbox)
		if release != nil {
			mu.Lock()
			prepared = append(prepared, sandbox.UID)
			mu.Unlock()
		}
		return release
	})
	return ctx, func() {
		// Each delete's Release took its own, unless the delete failed: a
		// Sandbox still stored is released by a later delete, reset again.
		mu.Lock()
		defer mu.Unlock()
		for _, uid := range prepared {
			b.resetBeforeDelete.Delete(uid)
		}
	}
}

// resetBeforeDeleteTimeout bounds the reset a delete waits for: a call of
// the Sandbox that will not end (an upload its client holds open) fails it,
// and the pod is then reclaimed after the delete (deleted, when it fails
// again).
const resetBeforeDeleteTimeout = 10 * time.Second

// resetForDelete resets the pod of a Sandbox being deleted when its pool
// reuses it, and returns the runtime's release to make with the delete
// (nil: none; the pod is then released after the delete, as ever).
//
// The reset comes before the Sandbox leaves the store, so the pod's claim
// can leave with it: only a pod already reset is ever unclaimed.
func (b *Binder) resetForDelete(ctx context.Context, sandbox *arl.Sandbox) any {
	releaser, ok := b.runtime.(DeferredReleaser)
	if !ok {
		return nil
	}
	pod := b.allocatedPod(sandbox)
	if pod == nil || !b.reusable(ctx, pod) {
		return nil
	}
	release := releaser.DeferRelease(pod)
	if release == nil {
		return nil
	}
	resetCtx, cancel := context.WithTimeout(ctx, resetBeforeDeleteTimeout)
	defer cancel()
	if err := b.reset(resetCtx, pod, sandbox.UID); err != nil {
		klog.FromContext(ctx).V(2).Info("Resetting the pod before its Sandbox's delete failed; it is reclaimed after the delete",
			"pod", klog.KRef(pod.Namespace, pod.Name), "err", err)
		return nil
	}
	b.resetBeforeDelete.Store(sandbox.UID, pod.UID)
	return release
}

// returnReset returns to its pool the pod reset before its Sandbox's
// delete: its labels, and its claim if that had moved and stayed.
func (b *Binder) returnReset(ctx context.Context, sandbox *arl.Sandbox, podUID types.UID) {
	pod, ok := b.runtime.Get(sandbox.Namespace, sandbox.Status.PodName)
	if !ok || pod.UID != podUID || (pod.State == PodAllocated && pod.Sandbox != sandbox.Name) {
		// Gone, or bound again already.
		return
	}
	logger := klog.FromContext(ctx).WithValues("pod", klog.KRef(pod.Namespace, pod.Name))
	_, err := b.runtime.Release(ctx, pod)
	switch {
	case err == nil:
		logger.V(2).Info("Pod reset and returned to its pool")
	case errors.Is(err, ErrConflict):
		// Bound again since: unclaimed, it was another Sandbox's to take.
	default:
		logger.Error(err, "Returning the reset pod failed; the pool manager will reclaim it")
	}
}

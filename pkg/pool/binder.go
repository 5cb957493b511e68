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
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// PoolGetter reads a WarmPool. It must see every pool whose create was
// acknowledged before the call (read-your-writes), so a script that creates
// a pool and then a Sandbox never gets PoolNotFound.
type PoolGetter func(ctx context.Context, namespace, name string) (*arlv1alpha1.WarmPool, bool)

// Binder hands idle pods to Sandboxes as they are created. It runs on every
// replica: the free list is local, the claim is a conditional write.
type Binder struct {
	runtime Runtime
	free    *FreeList
	pools   PoolGetter
	agents  *client.Pool
	clock   clock.PassiveClock
	// resetBeforeDelete holds, by Sandbox UID, the pods reset while their
	// Sandbox's delete was in flight (ReleaseWithDelete), for its Release.
	resetBeforeDelete sync.Map
}

// NewBinder returns a binder over runtime's pods; agents reaches their
// sidecars (to reset a pod its Sandbox leaves).
func NewBinder(runtime Runtime, free *FreeList, pools PoolGetter, agents *client.Pool) *Binder {
	return &Binder{runtime: runtime, free: free, pools: pools, agents: agents, clock: clock.RealClock{}}
}

// Bind returns the status a new Sandbox starts with: Ready with a pod when
// its pool has an idle Ready one, else Pending with the reason. The undo
// function returns the pod when the Sandbox could not be stored after all.
func (b *Binder) Bind(ctx context.Context, sandbox *arl.Sandbox) (arl.SandboxStatus, func(), error) {
	now := b.clock.Now()
	pool, ok := b.pools(ctx, sandbox.Namespace, sandbox.Spec.PoolRef)
	if !ok {
		return pendingStatus(ReasonPoolNotFound, fmt.Sprintf("WarmPool %q does not exist (yet) in namespace %q", sandbox.Spec.PoolRef, sandbox.Namespace), now), nil, nil
	}
	// Resources that do not fit the pool's template fail the create before
	// any pod is claimed.
	resources, resize, errs := executorResources(pool, sandbox.Spec.Resources)
	if len(errs) > 0 {
		return arl.SandboxStatus{}, nil, apierrors.NewInvalid(arl.Kind("Sandbox"), sandbox.Name, errs)
	}
	claimCtx := ctx
	if resize {
		// The pod is changed before the Sandbox is stored: it must be
		// claimed first, not with the Sandbox.
		claimCtx = withoutClaimSlot(ctx)
	}
	pod, err := b.claimIdle(claimCtx, pool, sandbox.Name)
	if err != nil {
		// The Sandbox is still created: the pool manager binds it later.
		klog.ErrorS(err, "Claiming an idle pod failed; the Sandbox waits", "sandbox", klog.KObj(sandbox), "pool", sandbox.Spec.PoolRef)
	}
	if pod == nil {
		return pendingStatus(ReasonWaitingForPod, fmt.Sprintf("WarmPool %q has no idle Ready pod; one is being prepared", pool.Name), now), nil, nil
	}
	undo := func() { b.giveBack(pod) }
	if resize {
		if err := b.resize(ctx, pod, resources); err != nil {
			return arl.SandboxStatus{}, nil, resizeStatusError(sandbox, pod, err)
		}
		undo = func() { b.discard(pod, "its Sandbox was not stored") }
	}
	status := boundStatus(pod, b.runtime.Address(pod), now)
	// The bind counts from the request's arrival (what its client waits).
	since := now
	if received, ok := genericapirequest.ReceivedTimestampFrom(ctx); ok {
		since = received
	}
	status.BindDuration = &metav1.Duration{Duration: b.clock.Since(since)}
	return status, undo, nil
}

// giveBack returns a claimed pod nobody used, unchanged, to its pool.
func (b *Binder) giveBack(pod *Pod) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := b.runtime.Release(ctx, pod); err != nil {
		klog.ErrorS(err, "Returning an unused pod failed; the pool manager will reclaim it", "pod", klog.KRef(pod.Namespace, pod.Name))
	}
}

// discard deletes a claimed pod that cannot go back to its pool.
func (b *Binder) discard(pod *Pod, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.runtime.Delete(ctx, pod); err != nil {
		klog.ErrorS(err, "Deleting a pod failed; the pool manager will reclaim it", "pod", klog.KRef(pod.Namespace, pod.Name), "why", why)
	}
}

// claimIdle takes pods from the pool's free list until one claim succeeds.
func (b *Binder) claimIdle(ctx context.Context, pool *arlv1alpha1.WarmPool, sandbox string) (*Pod, error) {
	poolKey := pool.Namespace + "/" + pool.Name
	hash := b.runtime.TemplateHash(pool)
	for {
		key := b.free.Take(poolKey)
		if key == "" {
			return nil, nil
		}
		namespace, name, err := cache.SplitMetaNamespaceKey(key)
		if err != nil { // the free list holds Pod.Key()s: not reached
			utilruntime.HandleError(err)
			continue
		}
		pod, ok := b.runtime.Get(namespace, name)
		// A pod of an older template is left for the manager to replace.
		if !ok || !pod.Bindable() || pod.TemplateHash != hash {
			continue
		}
		claimed, err := b.runtime.Claim(ctx, pod, sandbox)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return claimed, nil
	}
}

// Release frees the pod of a deleted Sandbox: with the pool's reusePolicy
// Reset (and a pod of the current template) the pod's processes are killed,
// its workspace emptied and the pod returned to the pool; otherwise the pod
// is deleted and the pool makes a fresh one. Failures leave the pod to the
// pool manager, which reclaims pods whose Sandbox is gone.
func (b *Binder) Release(ctx context.Context, sandbox *arl.Sandbox) {
	if podUID, ok := b.resetBeforeDelete.LoadAndDelete(sandbox.UID); ok {
		b.returnReset(ctx, sandbox, podUID.(types.UID))
		return
	}
	if pod := b.allocatedPod(sandbox); pod != nil {
		b.reclaim(ctx, pod, sandbox.UID, "Sandbox "+sandbox.Name+" was deleted")
	}
}

// allocatedPod returns the pod the Sandbox holds, if any.
func (b *Binder) allocatedPod(sandbox *arl.Sandbox) *Pod {
	status := &sandbox.Status
	if status.PodName == "" {
		return nil
	}
	pod, ok := b.runtime.Get(sandbox.Namespace, status.PodName)
	if !ok || pod.UID != status.PodUID || pod.Sandbox != sandbox.Name || pod.State != PodAllocated {
		return nil
	}
	return pod
}

// reusable says the pod goes back to its pool when its Sandbox leaves:
// its pool's reusePolicy is Reset and the pod is as the pool makes them.
func (b *Binder) reusable(ctx context.Context, pod *Pod) bool {
	pool, ok := b.pools(ctx, pod.Namespace, pod.Pool)
	return ok && pool.Spec.ReusePolicy == arlv1alpha1.ReusePolicyReset &&
		pod.TemplateHash == b.runtime.TemplateHash(pool) && !pod.Failed && !pod.Terminating && !pod.Resized
}

// reclaim resets and returns, or deletes, an allocated pod nobody uses;
// released is the UID of the Sandbox that held it, when known.
func (b *Binder) reclaim(ctx context.Context, pod *Pod, released types.UID, why string) {
	logger := klog.FromContext(ctx).WithValues("pod", klog.KRef(pod.Namespace, pod.Name), "why", why)
	if b.reusable(ctx, pod) {
		err := b.reset(ctx, pod, released)
		if err == nil {
			if _, err = b.runtime.Release(ctx, pod); err == nil {
				logger.V(2).Info("Pod reset and returned to its pool")
				return
			}
		}
		logger.Info("Resetting the pod failed; deleting it instead", "err", err)
	}
	if err := b.runtime.Delete(ctx, pod); err != nil {
		logger.Error(err, "Deleting the pod failed; the pool manager will retry")
		return
	}
	logger.V(2).Info("Pod deleted")
}

// reset kills every process of the pod and empties its workspace; the
// agent then refuses the calls of the Sandbox with UID released, and
// first ends those in flight (empty: a Sandbox no longer known).
func (b *Binder) reset(ctx context.Context, pod *Pod, released types.UID) error {
	agent, err := b.agents.Get(ctx, b.runtime.Target(pod))
	if err != nil {
		return err
	}
	_, err = agent.Reset(ctx, &agentv1.ResetRequest{ReleaseSandbox: string(released)})
	return err
}

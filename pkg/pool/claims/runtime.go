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

package claims

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// staleAfter is how old a claim of a pod this replica does not know must
// be before it is removed: younger, the pod may just be missing from this
// replica's cache yet.
const staleAfter = time.Minute

// Runtime is a pool.Runtime whose binds are claims in the Ledger; the
// wrapped runtime runs the pods and carries their labels.
type Runtime struct {
	inner  pool.Runtime
	ledger *Ledger
	clock  clock.PassiveClock
	// labels brings claimed pods' labels in line, by claim UID.
	labels  workqueue.TypedRateLimitingInterface[types.UID]
	claimed claimedViews
	// onChange is Run's.
	onChange atomic.Pointer[func(*pool.Pod, bool)]
}

var _ pool.Runtime = &Runtime{}

// NewRuntime wraps inner: its pods are bound by claims in ledger.
func NewRuntime(inner pool.Runtime, ledger *Ledger) *Runtime {
	return newRuntime(inner, ledger, clock.RealClock{})
}

func newRuntime(inner pool.Runtime, ledger *Ledger, clk clock.WithTicker) *Runtime {
	return &Runtime{
		inner:  inner,
		ledger: ledger,
		clock:  clk,
		// Per pod backoff only: the controller default's shared 10/s bucket
		// held a thousand-bind burst's retries (mostly a cache a version
		// behind) for minutes (make test-scale).
		labels: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[types.UID](5*time.Millisecond, 10*time.Second),
			workqueue.TypedRateLimitingQueueConfig[types.UID]{Name: "arl_pod_labels", Clock: clk}),
	}
}

// Wrap returns NewRuntime(inner, ledger): a pool.NetworkRuntime and a
// pool.Preparer too when inner is one, as the pool manager and the server
// must still see it.
func Wrap(inner pool.Runtime, ledger *Ledger) pool.Runtime {
	r := NewRuntime(inner, ledger)
	network, isNetwork := inner.(pool.NetworkRuntime)
	preparer, isPreparer := inner.(pool.Preparer)
	switch {
	case isNetwork && isPreparer:
		return struct {
			*Runtime
			pool.NetworkRuntime
			pool.Preparer
		}{r, network, preparer}
	case isNetwork:
		return struct {
			*Runtime
			pool.NetworkRuntime
		}{r, network}
	case isPreparer:
		return struct {
			*Runtime
			pool.Preparer
		}{r, preparer}
	}
	return r
}

// view is the pod as its claim makes it: a claimed pod is allocated to its
// claim's Sandbox, a pod held for deletion is terminating.
func (r *Runtime) view(p *pool.Pod) *pool.Pod {
	if p == nil {
		return nil
	}
	c, ok := r.ledger.Get(p.UID)
	if !ok {
		return p
	}
	return r.claimed.get(p, c, viewClaimed)
}

func viewClaimed(p *pool.Pod, c Claim) *pool.Pod {
	v := *p
	if c.Sandbox == "" {
		v.Terminating = true
		return &v
	}
	v.State, v.Sandbox, v.ClaimedAt = pool.PodAllocated, c.Sandbox, c.ClaimedAt
	return &v
}

// Run implements pool.Runtime: the wrapped runtime's pod changes, and the
// claims' changes as changes of their pods.
func (r *Runtime) Run(ctx context.Context, onChange func(*pool.Pod, bool)) error {
	r.onChange.Store(&onChange)
	go r.ledger.Run(ctx, func(c Claim) {
		if p, ok := r.inner.Get(c.Namespace, c.Pod); ok && p.UID == c.UID {
			r.checkLabels(p)
			onChange(r.view(p), false)
		}
	})
	go r.runLabeler(ctx)
	go r.collect(ctx)
	return r.inner.Run(ctx, func(p *pool.Pod, deleted bool) {
		if deleted {
			r.claimed.forget(p.UID)
			if _, ok := r.ledger.Get(p.UID); ok {
				// Off the informer's goroutine: an etcd call may wait.
				go r.forget(ctx, p.UID)
			}
			onChange(p, true)
			return
		}
		r.checkLabels(p)
		onChange(r.view(p), false)
	})
}

// notify tells Run's caller of p's latest state.
func (r *Runtime) notify(p *pool.Pod) {
	if onChange := r.onChange.Load(); onChange != nil {
		(*onChange)(r.view(p), false)
	}
}

// HasSynced implements pool.Runtime.
func (r *Runtime) HasSynced() bool { return r.inner.HasSynced() && r.ledger.HasSynced() }

// Get implements pool.Runtime.
func (r *Runtime) Get(namespace, name string) (*pool.Pod, bool) {
	p, ok := r.inner.Get(namespace, name)
	return r.view(p), ok
}

// List implements pool.Runtime.
func (r *Runtime) List(namespace, poolName string) []*pool.Pod {
	return r.views(r.inner.List(namespace, poolName))
}

// ListAll implements pool.Runtime.
func (r *Runtime) ListAll() []*pool.Pod { return r.views(r.inner.ListAll()) }

func (r *Runtime) views(pods []*pool.Pod) []*pool.Pod {
	for i, p := range pods {
		pods[i] = r.view(p)
	}
	return pods
}

// Create implements pool.Runtime.
func (r *Runtime) Create(ctx context.Context, p *arlv1alpha1.WarmPool) (*pool.Pod, error) {
	return r.inner.Create(ctx, p)
}

// Claim implements pool.Runtime: one etcd transaction, or none when ctx
// has a pool.ClaimSlot (the Sandbox's storage writes the claim with the
// Sandbox); the labels follow.
func (r *Runtime) Claim(ctx context.Context, p *pool.Pod, sandbox string) (*pool.Pod, error) {
	if v := r.view(p); v.State != pool.PodIdle || v.Terminating {
		return nil, pool.ErrConflict
	}
	c := Claim{Namespace: p.Namespace, Pod: p.Name, UID: p.UID, Sandbox: sandbox, ClaimedAt: r.clock.Now().UTC()}
	if slot := pool.ClaimSlotFrom(ctx); slot != nil {
		// Written with the Sandbox (sandboxStorage.Create).
		slot.Claim = &deferredClaim{runtime: r, claim: c}
		return viewClaimed(p, c), nil
	}
	if err := r.ledger.Create(ctx, c); err != nil {
		if errors.Is(err, ErrTaken) {
			return nil, pool.ErrConflict
		}
		return nil, err
	}
	r.labels.AddAfter(p.UID, labelDelay)
	return r.view(p), nil
}

// releaseAttempts bounds how often a release re-reads a pod whose version
// moved under its label patch.
const releaseAttempts = 5

// Release implements pool.Runtime: the claim goes first, so the pod is
// never idle by its labels while a claim still holds it. The label patch
// is conditional on the pod's version in the cache, which is often just
// behind (the labeler's own patch, a kubelet status write): a conflict
// waits for the cache to catch up and tries again, rather than costing
// the caller the pod (a Reset pool deletes a pod it cannot return).
func (r *Runtime) Release(ctx context.Context, p *pool.Pod) (*pool.Pod, error) {
	if err := r.ledger.Delete(ctx, p.UID, p.Sandbox); err != nil {
		if errors.Is(err, ErrNotHolder) {
			return nil, pool.ErrConflict
		}
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		current, ok := r.inner.Get(p.Namespace, p.Name)
		if !ok || current.UID != p.UID {
			return nil, pool.ErrConflict
		}
		if current.State == pool.PodIdle {
			// Its labels never said allocated (released before the labeler
			// got to it, or its claim was never written: the Sandbox that
			// deferred it was not stored). No claim event may follow to put
			// the pod back on the free lists: say it is idle.
			r.notify(current)
			return current, nil
		}
		if _, claimed := r.ledger.Get(p.UID); claimed {
			// Bound again since: its labels are the new claim's to write.
			return r.view(current), nil
		}
		released, err := r.inner.Release(ctx, current)
		if !errors.Is(err, pool.ErrConflict) || attempt == releaseAttempts {
			return released, err
		}
		_ = wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, time.Second, true, func(context.Context) (bool, error) {
			q, ok := r.inner.Get(p.Namespace, p.Name)
			return !ok || q.Version != current.Version, nil
		})
	}
}

// Delete implements pool.Runtime. An unclaimed pod is held first, so no
// replica binds it while it is being deleted (ErrConflict: one just did).
// The hold goes with the pod (Run).
func (r *Runtime) Delete(ctx context.Context, p *pool.Pod) error {
	if _, claimed := r.ledger.Get(p.UID); claimed {
		return r.inner.Delete(ctx, p)
	}
	err := r.ledger.Create(ctx, Claim{Namespace: p.Namespace, Pod: p.Name, UID: p.UID, ClaimedAt: r.clock.Now().UTC()})
	if errors.Is(err, ErrTaken) {
		return pool.ErrConflict
	}
	if err != nil {
		return err
	}
	if err := r.inner.Delete(ctx, p); err != nil {
		// A pod that stays must not stay held: it would never be bound,
		// nor deleted again (held pods look terminating).
		if herr := r.ledger.Delete(ctx, p.UID, ""); herr != nil {
			return fmt.Errorf("%w (and releasing its hold: %w)", err, herr)
		}
		return err
	}
	return nil
}

// Target implements pool.Runtime.
func (r *Runtime) Target(p *pool.Pod) client.Target { return r.inner.Target(p) }

// Address implements pool.Runtime.
func (r *Runtime) Address(p *pool.Pod) string { return r.inner.Address(p) }

// TemplateHash implements pool.Runtime.
func (r *Runtime) TemplateHash(p *arlv1alpha1.WarmPool) string { return r.inner.TemplateHash(p) }

// Resize implements pool.Resizer with the wrapped runtime's.
func (r *Runtime) Resize(ctx context.Context, p *pool.Pod, resources corev1.ResourceRequirements) error {
	resizer, ok := r.inner.(pool.Resizer)
	if !ok {
		return pool.ErrCannotResize
	}
	return resizer.Resize(ctx, p, resources)
}

// forget removes the claim of a pod that is gone.
func (r *Runtime) forget(ctx context.Context, uid types.UID) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.ledger.Forget(ctx, uid); err != nil {
		utilruntime.HandleErrorWithContext(ctx, err, "Removing the claim of a deleted pod failed", "uid", uid)
	}
}

// collect removes, every few minutes, the claims of pods that no longer
// exist (deleted while no replica ran, or whose deletion a replica missed).
func (r *Runtime) collect(ctx context.Context) {
	ticker := time.NewTicker(5 * time.Minute)
	defer ticker.Stop()
	for {
		if r.HasSynced() {
			known := map[types.UID]bool{}
			for _, p := range r.inner.ListAll() {
				known[p.UID] = true
			}
			for _, c := range r.ledger.List() {
				if !known[c.UID] && r.clock.Since(c.ClaimedAt) > staleAfter {
					klog.FromContext(ctx).V(2).Info("Removing the claim of a pod that is gone", "pod", klog.KRef(c.Namespace, c.Pod), "uid", c.UID)
					r.forget(ctx, c.UID)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

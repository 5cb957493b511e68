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
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// storeWait is how long a pool waits for its store to be verified.
const storeWait = 5 * time.Second

// orphanGrace is how long an allocated pod may wait for its Sandbox to
// show up in the cache (it may be being created on another replica), and
// how long after its Sandbox's deletion it is left to the replica that
// deleted it to release.
const orphanGrace = 30 * time.Second

// Event reasons.
const (
	EventPodCreated      = "PodCreated"
	EventPodFailed       = "PodFailed"
	EventPodNotReady     = "PodNotReady"
	EventPodReplaced     = "PodReplaced"
	EventTemplateChanged = "TemplateChanged"
	EventBound           = "Bound"
	EventPodLost         = "PodLost"
	EventCreateFailed    = "FailedCreate"
	EventNetworkPolicy   = "NetworkPolicy"
	EventNetworkFailed   = "NetworkPolicyFailed"
)

// poolPods sorts a pool's pods by what the sync does with them.
type poolPods struct {
	idle      []*Pod // current template, healthy, not yet failed
	allocated []*Pod
}

// syncPool brings one pool to its desired state; it returns when to look again.
func (c *Controller) syncPool(ctx context.Context, key string) (time.Duration, error) {
	logger := klog.FromContext(ctx).WithValues("pool", key)
	ctx = klog.NewContext(ctx, logger)
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil { // not a key the handlers enqueue: retrying cannot help
		utilruntime.HandleError(err)
		return 0, nil
	}
	// A store that is not (yet) vouched for is not acted on at all.
	if err := c.storeErr(); err != nil {
		logger.V(2).Info("Not syncing: ARL's store is not verified", "err", err.Error())
		return storeWait, nil
	}
	now := c.now()
	pods := c.runtime.List(namespace, name)
	pool, err := c.pools.WarmPools(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.shortfalls.end(key)
		c.waiting.set(key, false)
		forgetPool(namespace, name)
		c.binds.forget(key)
		switch decideMissingPool(c.deletions.seen(key), c.verifyStore(ctx)) {
		case deletePods:
			return 0, c.poolDeleted(ctx, namespace, name, pods)
		case retryLater:
			return 0, fmt.Errorf("WarmPool %s was deleted, but ARL's store cannot be verified now: %w", key, c.storeErr())
		default:
			c.reportKeptOrphans(ctx, namespace, name, pods)
			return 0, nil
		}
	}
	if err != nil {
		return 0, err
	}
	hash := c.runtime.TemplateHash(pool)
	sandboxes := c.sandboxesOf(namespace, name)
	var requeue requeueAfter

	// Classify pods; fail, reclaim or delete the ones that cannot serve.
	var classified poolPods
	var errs []error
	for _, pod := range pods {
		switch {
		case pod.Terminating:
		case pod.Failed:
			errs = append(errs, c.replaceFailed(ctx, pool, pod, pod.FailureReason, pod.FailureMessage, now))
		case pod.State == PodAllocated:
			sandbox := sandboxes[pod.Sandbox]
			if sandbox != nil && (sandbox.Status.PodName == pod.Name || sandbox.Status.Phase == arlv1alpha1.SandboxPending) {
				classified.allocated = append(classified.allocated, pod)
				continue
			}
			since := pod.ClaimedAt
			if deleted, ok := c.sandboxDeletes.when(namespace + "/" + pod.Sandbox); ok && deleted.After(since) {
				since = deleted
			}
			if wait := orphanGrace - now.Sub(since); wait > 0 {
				classified.allocated = append(classified.allocated, pod)
				requeue.at(wait)
				continue
			}
			// A Sandbox missing from a store that came back empty is not gone.
			if err := c.verifyStore(ctx); err != nil {
				classified.allocated = append(classified.allocated, pod)
				errs = append(errs, fmt.Errorf("keeping pod %s of missing Sandbox %s: ARL's store cannot be verified: %w", pod.Name, pod.Sandbox, err))
				continue
			}
			c.binder.reclaim(ctx, pod, "", "its Sandbox "+pod.Sandbox+" is gone")
		case pod.TemplateHash != hash:
			// Idle pods of an older template are replaced at once; the
			// Binder never hands them out.
			c.recordPool(pool, corev1.EventTypeNormal, EventTemplateChanged, "Deleting idle pod %s: the pool's template changed", pod.Name)
			errs = append(errs, c.deletePod(ctx, pod))
		case !pod.Ready && pod.unreadyFor(now) > c.cfg.ReadyTimeout:
			errs = append(errs, c.replaceFailed(ctx, pool, pod, EventPodNotReady,
				fmt.Sprintf("pod %s has not been Ready for %s", pod.Name, c.cfg.ReadyTimeout), now))
		default:
			classified.idle = append(classified.idle, pod)
			if !pod.Ready {
				requeue.at(c.cfg.ReadyTimeout - pod.unreadyFor(now))
			}
		}
	}

	c.failLostSandboxes(ctx, sandboxes, pods)
	unbound := c.bindPending(ctx, pool, sandboxes, &classified, now)
	c.waiting.set(key, unbound > 0)
	networkErr := c.ensureNetwork(ctx, pool, now)
	errs = append(errs, networkErr)

	// Keep spec.replicas idle pods, plus one for each Sandbox still waiting.
	desired := int(*pool.Spec.Replicas) + unbound
	starting := c.expectations.pending(key, now)
	have := len(classified.idle) + starting
	refill := refillState{reason: refillFull, message: fmt.Sprintf("%d of %d idle pods", len(classified.idle), desired)}
	short := fmt.Sprintf("%d of %d idle pods, %d being created", len(classified.idle), desired, starting)
	switch {
	case have < desired:
		if networkErr != nil {
			// New pods would run without the pool's isolation.
			refill = refillState{refillNetworkNotReady, short + "; no new pods until the pool's network isolation is written"}
			break
		}
		if b, ok := c.backoff(key); ok && now.Before(b.until) {
			refill = refillState{refillBackingOff, fmt.Sprintf("%s; after %s, no new pods until %s", short, b.reason, b.until.UTC().Format(time.RFC3339))}
			requeue.at(b.until.Sub(now))
			break
		}
		if wait := c.refillWait(key, &classified, unbound, now); wait > 0 {
			refill = refillState{refillDeferred, short + "; binds are arriving: the refill waits for them to pass"}
			requeue.at(wait)
			break
		}
		c.shortfalls.end(key)
		n := min(desired-have, c.cfg.CreateBurst)
		refill = refillState{refillCreating, fmt.Sprintf("%s; creating %d more", short, n)}
		errs = append(errs, c.createPods(ctx, pool, n, now))
	case have > desired && c.expectations.pending(key, now) == 0:
		c.shortfalls.end(key)
		errs = append(errs, c.deleteExcess(ctx, classified.idle, have-desired))
	default:
		c.shortfalls.end(key)
		if len(classified.idle) < desired {
			refill = refillState{refillCreating, short}
		}
	}

	observePool(pool, desired, &classified)
	if wait, err := c.updatePoolStatus(ctx, pool, &classified, refill, now); err != nil {
		errs = append(errs, err)
	} else if wait > 0 {
		requeue.at(wait)
	}
	return requeue.d, utilerrors.NewAggregate(errs)
}

// ensureNetwork keeps the pool's network isolation in step with its spec
// (a runtime without isolation has nothing to do).
func (c *Controller) ensureNetwork(ctx context.Context, pool *arlv1alpha1.WarmPool, now time.Time) error {
	network, ok := c.runtime.(NetworkRuntime)
	if !ok {
		return nil
	}
	changed, err := network.EnsurePoolNetwork(ctx, pool)
	if err != nil {
		key := pool.Namespace + "/" + pool.Name
		b := c.recordFailure(key, EventNetworkFailed, err.Error(), now)
		c.recordPool(pool, corev1.EventTypeWarning, EventNetworkFailed, "Writing the pool's network isolation failed; no new pods until it succeeds (next try in %s): %v",
			b.until.Sub(now).Round(time.Second), err)
		return err
	}
	if changed != "" {
		c.recordPool(pool, corev1.EventTypeNormal, EventNetworkPolicy, "%s", changed)
	}
	return nil
}

// sandboxPoolIndex indexes Sandboxes by namespace/poolRef: a pool's sync
// reads its own Sandboxes, not every Sandbox of the namespace.
const sandboxPoolIndex = "arl-pool"

func addSandboxPoolIndex(informer cache.SharedIndexInformer) error {
	if _, ok := informer.GetIndexer().GetIndexers()[sandboxPoolIndex]; ok {
		return nil // another controller on the same informer added it
	}
	return informer.AddIndexers(cache.Indexers{sandboxPoolIndex: func(obj interface{}) ([]string, error) {
		s, ok := obj.(*arlv1alpha1.Sandbox)
		if !ok {
			return nil, nil
		}
		return []string{s.Namespace + "/" + s.Spec.PoolRef}, nil
	}})
}

// sandboxesOf returns a pool's Sandboxes by name.
func (c *Controller) sandboxesOf(namespace, pool string) map[string]*arlv1alpha1.Sandbox {
	objs, _ := c.cfg.Sandboxes.Informer().GetIndexer().ByIndex(sandboxPoolIndex, namespace+"/"+pool)
	out := make(map[string]*arlv1alpha1.Sandbox, len(objs))
	for _, obj := range objs {
		s := obj.(*arlv1alpha1.Sandbox)
		out[s.Name] = s
	}
	return out
}

// replaceFailed deletes a failed pod, slows the pool down if its pods keep
// failing, and fails the Sandbox the pod was bound to.
func (c *Controller) replaceFailed(ctx context.Context, pool *arlv1alpha1.WarmPool, pod *Pod, reason, message string, now time.Time) error {
	if reason == "" {
		reason = EventPodFailed
	}
	if message == "" {
		message = "pod " + pod.Name + " failed"
	}
	podFailures.WithLabelValues(pool.Namespace, pool.Name, reason).Inc()
	b := c.recordFailure(pool.Namespace+"/"+pool.Name, reason, message, now)
	c.recordPool(pool, corev1.EventTypeWarning, EventPodReplaced, "Replacing pod %s: %s: %s (next pod in %s)",
		pod.Name, reason, message, b.until.Sub(now).Round(time.Second))
	return c.deletePod(ctx, pod)
}

func (c *Controller) deletePod(ctx context.Context, pod *Pod) error {
	if err := c.runtime.Delete(ctx, pod); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting pod %s: %w", pod.Key(), err)
	}
	return nil
}

// createPods creates n pods in parallel.
func (c *Controller) createPods(ctx context.Context, pool *arlv1alpha1.WarmPool, n int, now time.Time) error {
	key := pool.Namespace + "/" + pool.Name
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			pod, err := c.runtime.Create(ctx, pool)
			if err != nil {
				errs[i] = err
				return
			}
			// The cache may not have it yet: count it until it does.
			if _, seen := c.runtime.Get(pod.Namespace, pod.Name); !seen {
				c.expectations.expect(key, pod.Key(), now)
			}
		}(i)
	}
	wg.Wait()
	err := utilerrors.NewAggregate(errs)
	if err != nil {
		b := c.recordFailure(key, EventCreateFailed, err.Error(), now)
		c.recordPool(pool, corev1.EventTypeWarning, EventCreateFailed, "Creating pods failed (next try in %s): %v", b.until.Sub(now).Round(time.Second), err)
	} else {
		c.recordPool(pool, corev1.EventTypeNormal, EventPodCreated, "Created %d pod(s)", n)
	}
	return err
}

// deleteExcess deletes idle pods beyond the desired count: pods that are
// not Ready first, then the newest.
func (c *Controller) deleteExcess(ctx context.Context, idle []*Pod, n int) error {
	sort.SliceStable(idle, func(i, j int) bool {
		if idle[i].Ready != idle[j].Ready {
			return !idle[i].Ready
		}
		return idle[i].Created.After(idle[j].Created)
	})
	var errs []error
	for _, pod := range idle[:min(n, len(idle))] {
		errs = append(errs, c.deletePod(ctx, pod))
	}
	return utilerrors.NewAggregate(errs)
}

// poolDeleted deletes every pod of a deleted pool, then its network
// isolation; their Sandboxes fail.
func (c *Controller) poolDeleted(ctx context.Context, namespace, name string, pods []*Pod) error {
	var errs []error
	for _, pod := range pods {
		if !pod.Terminating {
			errs = append(errs, c.deletePod(ctx, pod))
		}
	}
	for _, sandbox := range c.sandboxesOf(namespace, name) {
		if sandbox.Status.Phase == arlv1alpha1.SandboxReady {
			c.failSandbox(ctx, sandbox, ReasonPoolDeleted, fmt.Sprintf("WarmPool %q was deleted with its pods", name))
		}
	}
	// The isolation goes with the last pod (whose deletion syncs the pool
	// again), not before it.
	if network, ok := c.runtime.(NetworkRuntime); ok && len(pods) == 0 {
		errs = append(errs, network.DeletePoolNetwork(ctx, namespace, name))
	}
	c.clearFailures(namespace + "/" + name)
	return utilerrors.NewAggregate(errs)
}

// statusInterval is the least time between two status writes of a pool:
// every bind and refill changes its counts, and a write each would cost
// more etcd writes than the binds themselves.
const statusInterval = time.Second

// updatePoolStatus writes the pool's status when it changed, at most once
// per statusInterval unless the spec changed; it returns when to look
// again if it held a write back.
func (c *Controller) updatePoolStatus(ctx context.Context, pool *arlv1alpha1.WarmPool, pods *poolPods, refill refillState, now time.Time) (time.Duration, error) {
	key := pool.Namespace + "/" + pool.Name
	status := pool.Status.DeepCopy()
	status.RecentBinds = c.binds.summary(key)
	status.ObservedGeneration = pool.Generation
	status.Replicas = int32(len(pods.idle) + len(pods.allocated))
	status.AllocatedReplicas = int32(len(pods.allocated))
	status.ReadyReplicas = 0
	for _, pod := range pods.idle {
		if pod.Ready {
			status.ReadyReplicas++
		}
	}
	status.Selector = arl.IdlePodSelector(pool.Name)
	if status.ReadyReplicas > 0 || len(pods.allocated) > 0 {
		c.clearFailures(key)
	}

	ready := metav1.Condition{Type: arlv1alpha1.WarmPoolConditionReady, Status: metav1.ConditionTrue, Reason: "Available",
		Message: fmt.Sprintf("%d of %d idle pods are Ready", status.ReadyReplicas, *pool.Spec.Replicas), ObservedGeneration: pool.Generation}
	if status.ReadyReplicas < *pool.Spec.Replicas {
		ready.Status, ready.Reason = metav1.ConditionFalse, "Scaling"
	}
	failure := metav1.Condition{Type: arlv1alpha1.WarmPoolConditionReplicaFailure, Status: metav1.ConditionFalse, Reason: "NoFailures",
		Message: "pods start and become Ready", ObservedGeneration: pool.Generation}
	if b, ok := c.backoff(key); ok {
		failure.Status, failure.Reason, failure.Message = metav1.ConditionTrue, b.reason, b.message
		if now.Before(b.until) {
			ready.Reason = "BackingOff"
		}
	}
	// now is a transition time only where a condition's status changed.
	ready.LastTransitionTime, failure.LastTransitionTime = metav1.NewTime(now), metav1.NewTime(now)
	refilling := metav1.Condition{Type: arlv1alpha1.WarmPoolConditionRefilling, Status: metav1.ConditionTrue, Reason: refill.reason,
		Message: refill.message, ObservedGeneration: pool.Generation, LastTransitionTime: metav1.NewTime(now)}
	if refill.reason == refillFull {
		refilling.Status = metav1.ConditionFalse
	}
	meta.SetStatusCondition(&status.Conditions, ready)
	meta.SetStatusCondition(&status.Conditions, refilling)
	meta.SetStatusCondition(&status.Conditions, failure)

	if apiequality.Semantic.DeepEqual(*status, pool.Status) {
		return 0, nil
	}
	// A new spec is acknowledged at once; counts and the conditions that
	// follow them (Ready flips with every bind of a small pool) wait.
	if wait := c.statusWrites.wait(key, now); status.ObservedGeneration == pool.Status.ObservedGeneration && wait > 0 {
		return wait, nil
	}
	updated := pool.DeepCopy()
	updated.Status = *status
	_, err := c.cfg.Client.WarmPools(pool.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		// The cache is behind; the newer object's event syncs again.
		return 0, nil
	}
	if err == nil {
		c.statusWrites.wrote(key, now)
	}
	return 0, err
}

// writeTimes remembers when each pool's status was last written.
type writeTimes struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// wait is how long to hold a write of key back.
func (w *writeTimes) wait(key string, now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return statusInterval - now.Sub(w.last[key])
}

func (w *writeTimes) wrote(key string, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	w.last[key] = now
}

func (c *Controller) recordPool(pool *arlv1alpha1.WarmPool, eventType, reason, format string, args ...interface{}) {
	if c.cfg.Recorder != nil {
		c.cfg.Recorder.Eventf(pool, eventType, reason, format, args...)
	}
}

// requeueAfter keeps the soonest of several deadlines.
type requeueAfter struct{ d time.Duration }

func (r *requeueAfter) at(d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	if r.d == 0 || d < r.d {
		r.d = d
	}
}

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
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/eventvolume"
	arlclient "github.com/arl-infra/arl/pkg/generated/clientset/versioned/typed/arl/v1alpha1"
	arlinformers "github.com/arl-infra/arl/pkg/generated/informers/externalversions/arl/v1alpha1"
	arllisters "github.com/arl-infra/arl/pkg/generated/listers/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// Config is what the pool needs from the server.
type Config struct {
	Runtime   Runtime
	WarmPools arlinformers.WarmPoolInformer
	Sandboxes arlinformers.SandboxInformer
	// Client writes WarmPool and Sandbox status, deletes Sandboxes and
	// asks whether a Sandbox about to expire runs a Task.
	Client   arlclient.ArlV1alpha1Interface
	Recorder record.EventRecorder
	// SandboxEvents says which Sandbox Events are recorded: Bound is one
	// more write per bind, which a fleet may not want to pay for; the
	// Warnings say a bind failed or a pod was lost.
	SandboxEvents eventvolume.Volume
	// Agents reaches pods' sidecars (reset, health).
	Agents *client.Pool
	// ReadyTimeout replaces a pod that is not Ready this long after creation.
	ReadyTimeout time.Duration
	// CreateBurst bounds the pods one pool creates at once.
	CreateBurst int
	// Workers is the number of pools synced in parallel.
	Workers int
	// RefillQuiet and RefillMaxDelay defer a pool's refill while binds
	// keep coming (refill.go); 0: the defaults; RefillQuiet < 0: no delay.
	RefillQuiet    time.Duration
	RefillMaxDelay time.Duration
	// SyncBatchPeriod gathers a pool's pod and Sandbox events into one
	// sync (syncbatch.go); 0: the default; < 0: a sync for each event.
	SyncBatchPeriod time.Duration
	// Store vouches for ARL's store before pods are deleted for the
	// absence of their pool or Sandbox; nil: no check (tests).
	Store StoreCheck
	// Clock tells the time and runs the timers (pod ages, backoffs, grace
	// periods, requeues); nil: the real clock. Tests step a fake one.
	Clock clock.WithTicker
}

// Controller keeps pools' pods and binds them. Run it on every replica;
// only the elected leader calls Lead.
type Controller struct {
	cfg       Config
	runtime   Runtime
	pools     arllisters.WarmPoolLister
	sandboxes arllisters.SandboxLister

	free         *FreeList
	binder       *Binder
	expectations *expectations
	// queue is the current leadership term's work queue (nil when not
	// leading): a term's queue is shut down when it ends, so each term
	// gets its own.
	queue   atomic.Pointer[workqueue.TypedRateLimitingInterface[string]]
	leading atomic.Bool
	clock   clock.WithTicker

	failuresMu sync.Mutex
	failures   map[string]*failureBackoff // pool key

	statusWrites writeTimes
	shortfalls   shortfalls
	// binds are the pools' last binds (status.recentBinds).
	binds *recentBinds
	// ready are the pods seen Ready (arl_warmpool_pod_ready_duration_seconds).
	ready readyPods
	// podChanges says which pod events change what a pool's sync reads.
	podChanges podChanges
	// waiting are the pools with Sandboxes waiting for a pod.
	waiting waitingPools

	// deletions are the pools' (deletionMemory), sandboxDeletes the
	// Sandboxes': the orphan grace of pods whose Sandbox was just deleted.
	deletions, sandboxDeletes deletionsSeen
	orphansMu                 sync.Mutex
	orphansLogged             map[string]time.Time // pool key -> when its kept pods were reported
}

// New returns a controller; its informers must be started by the caller.
func New(cfg Config) (*Controller, error) {
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 5 * time.Minute
	}
	if cfg.CreateBurst == 0 {
		cfg.CreateBurst = 32
	}
	if cfg.SyncBatchPeriod == 0 {
		cfg.SyncBatchPeriod = defaultSyncBatchPeriod
	}
	if cfg.RefillQuiet == 0 {
		cfg.RefillQuiet = defaultRefillQuiet
	}
	if cfg.RefillMaxDelay == 0 {
		cfg.RefillMaxDelay = defaultRefillMaxDelay
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	c := &Controller{
		cfg:            cfg,
		runtime:        cfg.Runtime,
		pools:          cfg.WarmPools.Lister(),
		sandboxes:      cfg.Sandboxes.Lister(),
		free:           NewFreeList(),
		expectations:   newExpectations(),
		clock:          cfg.Clock,
		failures:       map[string]*failureBackoff{},
		orphansLogged:  map[string]time.Time{},
		binds:          newRecentBinds(),
		deletions:      deletionsSeen{memory: deletionMemory},
		sandboxDeletes: deletionsSeen{memory: orphanGrace},
	}
	countSandboxes(c.sandboxes)
	c.binder = NewBinder(cfg.Runtime, c.free, c.getPool, cfg.Agents)
	c.binder.clock = cfg.Clock

	_, err := cfg.WarmPools.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
				c.deletions.forget(key)
			}
			c.enqueueObject(obj)
		},
		UpdateFunc: func(_, obj interface{}) { c.enqueueObject(obj) },
		DeleteFunc: func(obj interface{}) {
			c.observePoolDeleted(obj)
			c.enqueueObject(obj)
		},
	})
	if err != nil {
		return nil, err
	}
	if err := addSandboxPoolIndex(cfg.Sandboxes.Informer()); err != nil {
		return nil, err
	}
	_, err = cfg.Sandboxes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onSandboxEvent,
		UpdateFunc: func(_, obj interface{}) { c.onSandboxEvent(obj) },
		DeleteFunc: func(obj interface{}) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				c.sandboxDeletes.saw(key, c.now())
			}
			c.onSandboxEvent(obj)
		},
	})
	if err != nil {
		return nil, err
	}
	// Every replica's binds reach the pools' status through the Sandboxes'
	// bindDuration; those bound before this server started are not recent.
	_, err = cfg.Sandboxes.Informer().AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj interface{}, isInInitialList bool) {
			if sb, ok := obj.(*arlv1alpha1.Sandbox); ok && !isInInitialList {
				c.binds.observe(nil, sb)
			}
		},
		UpdateFunc: func(old, obj interface{}) {
			before, _ := old.(*arlv1alpha1.Sandbox)
			if sb, ok := obj.(*arlv1alpha1.Sandbox); ok {
				c.binds.observe(before, sb)
			}
		},
	})
	return c, err
}

// Binder binds pods on the Sandbox create path.
func (c *Controller) Binder() *Binder { return c.binder }

// Run feeds the free list from the runtime's pod events until ctx ends.
// Every replica runs it.
func (c *Controller) Run(ctx context.Context) error {
	return c.runtime.Run(ctx, c.onPodChange)
}

// HasSynced says pods and ARL objects are all in the caches.
func (c *Controller) HasSynced() bool {
	return c.runtime.HasSynced() && c.cfg.WarmPools.Informer().HasSynced() && c.cfg.Sandboxes.Informer().HasSynced()
}

// Lead runs the pool manager until ctx ends: only the elected leader does.
func (c *Controller) Lead(ctx context.Context) {
	logger := klog.FromContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), c.HasSynced) {
		return
	}
	queue := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "warmpools", Clock: c.clock})
	c.queue.Store(&queue)
	c.leading.Store(true)
	defer func() {
		c.leading.Store(false)
		c.queue.Store(nil)
		forgetPools()
	}()
	logger.Info("Leading the pool manager")

	for _, pool := range c.listPools() {
		c.enqueue(pool.Namespace + "/" + pool.Name)
	}
	// Pods and network isolation may belong to pools that are gone: their
	// keys come from them.
	for _, pod := range c.runtime.ListAll() {
		c.enqueue(pod.PoolKey())
	}
	if network, ok := c.runtime.(NetworkRuntime); ok {
		for _, key := range network.NetworkPoolKeys() {
			c.enqueue(key)
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < c.cfg.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(ctx, queue) {
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.runLifecycle(ctx)
	}()
	// A periodic resync catches what no event announces: pods that never
	// become Ready, backoffs that ended.
	go c.every(ctx, 15*time.Second, func(context.Context) {
		for _, pool := range c.listPools() {
			c.enqueue(pool.Namespace + "/" + pool.Name)
		}
		c.deletions.expire(c.now())
	})
	<-ctx.Done()
	queue.ShutDown()
	wg.Wait()
	logger.Info("No longer leading the pool manager")
}

// now is the controller's time.
func (c *Controller) now() time.Time { return c.clock.Now() }

// every runs f at once, then period after each run ends, until ctx ends:
// wait.UntilWithContext on the controller's clock.
func (c *Controller) every(ctx context.Context, period time.Duration, f func(context.Context)) {
	for ctx.Err() == nil {
		f(ctx)
		timer := c.clock.NewTimer(period)
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.C():
		}
	}
}

func (c *Controller) onPodChange(pod *Pod, deleted bool) {
	if deleted {
		c.free.Observe(pod.Key(), nil)
	} else {
		c.free.Observe(pod.Key(), pod)
	}
	c.expectations.observe(pod.PoolKey(), pod.Key())
	c.ready.observe(pod, deleted, c.leading.Load(), c.now())
	observed := pod
	if deleted {
		observed = nil
	}
	if c.podChanges.changed(pod.Key(), observed) {
		c.enqueueEvent(pod.PoolKey())
	}
}

// onSandboxEvent syncs the pool of a Sandbox added, changed or deleted.
func (c *Controller) onSandboxEvent(obj interface{}) {
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	sandbox, ok := obj.(*arlv1alpha1.Sandbox)
	switch {
	case !ok:
	case sandbox.Status.Phase == arlv1alpha1.SandboxPending && sandbox.DeletionTimestamp == nil:
		// It waits for a pod the sync binds or starts.
		c.enqueue(sandbox.Namespace + "/" + sandbox.Spec.PoolRef)
	default:
		c.enqueueEvent(sandbox.Namespace + "/" + sandbox.Spec.PoolRef)
	}
}

func (c *Controller) enqueueObject(obj interface{}) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err == nil {
		c.enqueue(key)
	}
}

func (c *Controller) enqueue(poolKey string) {
	if q := c.leadingQueue(); q != nil {
		q.Add(poolKey)
	}
}

// leadingQueue is this leadership term's work queue; nil when not leading.
func (c *Controller) leadingQueue() workqueue.TypedRateLimitingInterface[string] {
	if q := c.queue.Load(); q != nil && c.leading.Load() {
		return *q
	}
	return nil
}

func (c *Controller) processNext(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string]) bool {
	key, quit := queue.Get()
	if quit {
		return false
	}
	defer queue.Done(key)
	requeueAfter, err := c.syncPool(ctx, key)
	switch {
	case err != nil:
		klog.FromContext(ctx).Error(err, "Syncing pool failed; retrying", "pool", key)
		queue.AddRateLimited(key)
	default:
		queue.Forget(key)
		if requeueAfter > 0 {
			queue.AddAfter(key, requeueAfter)
		}
	}
	return true
}

// getPool reads a WarmPool: from the cache, or, when
// the cache has not seen it (yet), from the store. The informer trails the
// store, and a pool created a moment ago must not read as missing.
func (c *Controller) getPool(ctx context.Context, namespace, name string) (*arlv1alpha1.WarmPool, bool) {
	pool, err := c.pools.WarmPools(namespace).Get(name)
	if err == nil {
		return pool, true
	}
	// An empty resourceVersion is a quorum read from etcd.
	pool, err = c.cfg.Client.WarmPools(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			klog.FromContext(ctx).Error(err, "Reading a WarmPool the cache lacks failed", "pool", klog.KRef(namespace, name))
		}
		return nil, false
	}
	return pool, true
}

func (c *Controller) listPools() []*arlv1alpha1.WarmPool {
	pools, _ := c.pools.List(labels.Everything())
	return pools
}

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

package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/executor"
	clientset "github.com/arl-infra/arl/pkg/generated/clientset/versioned"
	informers "github.com/arl-infra/arl/pkg/generated/informers/externalversions"
	"github.com/arl-infra/arl/pkg/pool"
	sandboxstorage "github.com/arl-infra/arl/pkg/registry/arl/sandbox/storage"
)

// workloads runs what serves Sandboxes and Tasks beside the API, with the
// server: the pool controller (caches of ARL objects read through the
// loopback client, the runtime's pod events, the leader's pool manager), the
// executor, and the recovery of Tasks left by earlier runs.
type workloads struct {
	informers  informers.SharedInformerFactory
	controller *pool.Controller
	executor   *executor.Executor
	// stores are the executor's, bound by newAPIGroupInfo.
	stores *executor.Stores
	// agents reaches Sandboxes' agents, for the executor and the
	// host-mode subresources.
	agents *pool.Agents
	extra  *ExtraConfig

	// work is the life of the caches, the executor and the runner Lease:
	// it outlasts the server's context by the drain after a SIGTERM.
	work     context.Context
	stopWork context.CancelFunc
}

func newWorkloads(loopback *rest.Config, extra *ExtraConfig, tracerProvider trace.TracerProvider) (*workloads, error) {
	cfg := rest.CopyConfig(loopback)
	// The pool writes status for every pod event: the loopback client's
	// default rate limit would queue them.
	cfg.QPS, cfg.Burst = 1000, 2000
	arlClient, err := clientset.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("pool client: %w", err)
	}
	factory := informers.NewSharedInformerFactory(arlClient, 0)
	poolCfg := extra.PoolOptions
	poolCfg.Runtime = extra.PoolRuntime
	poolCfg.WarmPools = factory.Arl().V1alpha1().WarmPools()
	poolCfg.Sandboxes = factory.Arl().V1alpha1().Sandboxes()
	poolCfg.Client = arlClient.ArlV1alpha1()
	poolCfg.Recorder = extra.Recorder
	poolCfg.Agents = extra.Agents
	if extra.StoreGuard != nil {
		poolCfg.Store = extra.StoreGuard
	}
	controller, err := pool.New(poolCfg)
	if err != nil {
		return nil, err
	}
	stores, agents := executor.NewStores(), pool.NewAgents(extra.PoolRuntime, extra.Agents)
	w := &workloads{
		informers:  factory,
		controller: controller,
		executor: executor.New(executor.Config{
			Identity:            extra.Identity,
			Stores:              stores,
			Agents:              agents,
			Recorder:            extra.Recorder,
			OutputBytes:         extra.TaskOutputBytes,
			TaskEvents:          extra.TaskEvents,
			LogBytes:            extra.TaskLogBytes,
			MaxConcurrent:       extra.MaxConcurrentTasks,
			TTLDeletesPerSecond: extra.TaskTTLDeletesPerSecond,
			TracerProvider:      tracerProvider,
		}),
		stores: stores,
		agents: agents,
		extra:  extra,
	}
	w.work, w.stopWork = context.WithCancel(klog.NewContext(context.Background(), klog.Background().WithName("pool")))
	// Queued Tasks start the moment their Sandbox turns Ready.
	_, err = poolCfg.Sandboxes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj interface{}) {
			if sb, ok := obj.(*arlv1alpha1.Sandbox); ok && sb.Status.Phase != arlv1alpha1.SandboxPending {
				w.executor.Kick(sb.Namespace, sb.Name)
			}
		},
	})
	return w, err
}

// binder is the pool's Binder that also stops the Tasks of deleted Sandboxes.
func (w *workloads) binder() sandboxstorage.Binder {
	return &taskAwareBinder{Controller: w.controller, executor: w.executor}
}

type taskAwareBinder struct {
	*pool.Controller
	executor *executor.Executor
}

func (b *taskAwareBinder) Release(ctx context.Context, sandbox *arl.Sandbox) {
	b.executor.SandboxGone(sandbox.Namespace, sandbox.Name)
	b.Controller.Release(ctx, sandbox)
}

// start is the post-start hook: everything runs until the server stops,
// once the store is verified (caches of a store that came back empty must
// never be loaded, let alone acted on).
func (w *workloads) start(hook genericapiserver.PostStartHookContext) error {
	ctx := klog.NewContext(hook, klog.Background().WithName("pool"))
	// The runtime's API calls (the Kubernetes runtime's sidecar CA) come
	// first. A failed hook ends the process: a replica without the CA
	// would create pods it cannot reach.
	if runtime, ok := w.extra.PoolRuntime.(pool.Preparer); ok {
		if err := runtime.Prepare(ctx); err != nil {
			return fmt.Errorf("preparing the pool runtime: %w", err)
		}
	}
	go func() {
		// Nothing stops the work but the drain; a server that fails to
		// start has no Tasks to drain.
		<-ctx.Done()
		time.AfterFunc(time.Minute, w.stopWork)
	}()
	if w.extra.KeepRunnerLease != nil {
		go w.extra.KeepRunnerLease(w.work)
	}
	if guard := w.extra.StoreGuard; guard != nil {
		go func() {
			select {
			case <-guard.Verified():
				w.run(ctx)
			case <-ctx.Done():
				return
			}
			// A refused store is not acted on: no Task recovered or expired,
			// no cache kept (the pool manager checks the guard itself).
			select {
			case <-guard.Refused():
				klog.FromContext(ctx).Info("Stopping the executor and the caches: the store was refused")
				w.stopWork()
			case <-ctx.Done():
			}
		}()
		return nil
	}
	w.run(ctx)
	return nil
}

// run starts the caches, the executor and the pool. Leading the pool
// stops with the server (the Lease goes to a replica that stays); the
// rest runs until the drain ends.
func (w *workloads) run(serverCtx context.Context) {
	ctx := w.work
	w.executor.Start(ctx)
	w.informers.Start(ctx.Done())
	go func() {
		if err := w.controller.Run(ctx); err != nil {
			klog.FromContext(ctx).Error(err, "The pool runtime stopped")
		}
	}()
	if w.extra.RunLeaderElected != nil {
		go w.extra.RunLeaderElected(serverCtx, w.controller.Lead)
	} else {
		go w.controller.Lead(serverCtx)
	}
	go w.recoverTasks(ctx)
}

// drain runs when the server is told to stop: requests keep arriving for
// delay (endpoints learn that this replica is not ready) and the Tasks
// they start run too; then the Tasks still running get up to grace to
// finish before the work stops and cuts the rest (RunnerLost).
func (w *workloads) drain(delay, grace time.Duration) {
	time.Sleep(delay)
	logger := klog.Background().WithName("pool")
	deadline := time.Now().Add(grace)
	if busy := w.executor.Busy(); busy > 0 && grace > 0 {
		logger.Info("Stopping: letting this replica's Tasks finish", "tasks", busy, "grace", grace)
	}
	for w.executor.Busy() > 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if busy := w.executor.Busy(); busy > 0 {
		logger.Info("Stopping: cutting the Tasks still running", "tasks", busy)
	}
	w.stopWork()
	// The cut Tasks' results are written with a context of their own.
	for end := time.Now().Add(15 * time.Second); w.executor.Busy() > 0 && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
	}
}

// recoverTasks fails the Running Tasks of replicas that are gone and
// queues their Pending ones, once the caches are loaded and then every
// little while (a replica may die at any time).
func (w *workloads) recoverTasks(ctx context.Context) {
	if !cache.WaitForCacheSync(ctx.Done(), w.controller.HasSynced) {
		return
	}
	alive := w.extra.RunnerAlive
	if alive == nil {
		alive = func(string) bool { return false }
	}
	for {
		if err := w.executor.Recover(ctx, alive); err != nil {
			klog.FromContext(ctx).Error(err, "Recovering Tasks of lost replicas failed")
		}
		if w.extra.RunnerAlive == nil {
			// Standalone: only an earlier run of this server can have left Tasks.
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(15 * time.Second):
		}
	}
}

// readyzCheck reports the replica not ready until its caches are loaded,
// since binds need them.
func (w *workloads) readyzCheck() healthz.HealthChecker {
	return healthz.NamedCheck("arl-pool-caches", func(*http.Request) error {
		if !w.controller.HasSynced() {
			return fmt.Errorf("pool caches are not synced yet")
		}
		return nil
	})
}

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
	"fmt"
	"net/http"

	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	clientset "github.com/arl-infra/arl/pkg/generated/clientset/versioned"
	informers "github.com/arl-infra/arl/pkg/generated/informers/externalversions"
	"github.com/arl-infra/arl/pkg/pool"
	sandboxstorage "github.com/arl-infra/arl/pkg/registry/arl/sandbox/storage"
)

type sandboxBinder = sandboxstorage.Binder

// poolRunner starts the pool with the server: caches of ARL objects read
// through the loopback client, the runtime's pod events, the leader's manager.
type poolRunner struct {
	informers  informers.SharedInformerFactory
	controller *pool.Controller
	extra      *ExtraConfig
}

func newPoolRunner(loopback *rest.Config, extra *ExtraConfig) (*poolRunner, error) {
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
	poolCfg.Tasks = factory.Arl().V1alpha1().Tasks()
	poolCfg.Client = arlClient.ArlV1alpha1()
	poolCfg.Recorder = extra.Recorder
	poolCfg.Agents = extra.Agents
	return &poolRunner{informers: factory, controller: pool.New(poolCfg), extra: extra}, nil
}

// start is the post-start hook: everything runs until the server stops.
func (p *poolRunner) start(hook genericapiserver.PostStartHookContext) error {
	ctx := klog.NewContext(hook, klog.Background().WithName("pool"))
	p.informers.Start(ctx.Done())
	go func() {
		if err := p.controller.Run(ctx); err != nil {
			klog.FromContext(ctx).Error(err, "The pool runtime stopped")
		}
	}()
	if p.extra.RunLeaderElected != nil {
		go p.extra.RunLeaderElected(ctx, p.controller.Lead)
	} else {
		go p.controller.Lead(ctx)
	}
	return nil
}

// readyzCheck reports the replica not ready until its caches are loaded,
// since binds need them.
func (p *poolRunner) readyzCheck() healthz.HealthChecker {
	return healthz.NamedCheck("arl-pool-caches", func(*http.Request) error {
		if !p.controller.HasSynced() {
			return fmt.Errorf("pool caches are not synced yet")
		}
		return nil
	})
}

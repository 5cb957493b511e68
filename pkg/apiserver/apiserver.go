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

// Package apiserver assembles the arl.infra.io API server: config, scheme,
// the storage of every resource, and the workloads that run alongside (the
// pool controller, the executor and Task recovery).
package apiserver

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/eventvolume"
	"github.com/arl-infra/arl/pkg/pool"
	taskstorage "github.com/arl-infra/arl/pkg/registry/arl/task/storage"
	"github.com/arl-infra/arl/pkg/registry/arl/warmpool"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	"github.com/arl-infra/arl/pkg/storeguard"
)

// ExtraConfig holds what ARL adds to a generic API server's config.
type ExtraConfig struct {
	// PoolRuntime runs pool pods; nil serves the API alone (Sandboxes stay
	// Pending), which storage tests use.
	PoolRuntime pool.Runtime
	// Agents reaches pods' sidecars.
	Agents *client.Pool
	// Recorder records Events; nil records none.
	Recorder record.EventRecorder
	// EventBroadcaster is Recorder's: a post-start hook has it write
	// Recorder's Events to EventSink until the server stops. nil: none.
	EventBroadcaster record.EventBroadcaster
	EventSink        record.EventSink
	// RunLeaderElected runs lead while this replica is the pool manager's
	// leader; nil: this replica always leads (standalone).
	RunLeaderElected func(ctx context.Context, lead func(context.Context))
	// PoolOptions tune the pool manager.
	PoolOptions pool.Config
	// Identity names this replica in the Tasks it runs.
	Identity string
	// KeepRunnerLease renews this replica's runner Lease until ctx ends
	// (then deletes it); nil: none (standalone).
	KeepRunnerLease func(ctx context.Context)
	// ShutdownTaskGrace is how long a stopping replica lets its Tasks finish.
	ShutdownTaskGrace time.Duration
	// RunnerAlive says whether another replica that ran Tasks is alive; nil:
	// none is (standalone: Tasks of an earlier run of this server failed).
	RunnerAlive func(runner string) bool
	// Peers reaches the replica running a Task for its output; nil: no
	// other replica (standalone).
	Peers taskstorage.Peers
	// TaskOutputBytes is the stdout (and stderr) tail kept in Task status.
	TaskOutputBytes int
	// TaskLogBytes is the window of a running Task's output kept for its log.
	TaskLogBytes int
	// TaskEvents says which finished Tasks get an Event.
	TaskEvents eventvolume.Volume
	// MaxConcurrentTasks bounds the Tasks running at once on this replica.
	MaxConcurrentTasks int
	// TaskTTLDeletesPerSecond paces this replica's deletes of expired Tasks.
	TaskTTLDeletesPerSecond float64
	// ServeEvents serves core/v1 Events and records ARL's Events there,
	// and serves the pool runtime's pods with pods/exec: standalone mode
	// has no kube-apiserver to keep Events or reach pods.
	ServeEvents bool
	// PrivilegedPoolNamespaces are the namespaces whose WarmPools' templates
	// may ask for host namespaces, hostPath volumes, privileged containers
	// and the like; elsewhere such a template is refused with a 422.
	PrivilegedPoolNamespaces []string
	// StoreGuard checks that etcd is the store this installation wrote;
	// nil: no check (storage tests).
	StoreGuard *storeguard.Guard
}

// Config is the configuration of an ARL API server.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	ExtraConfig   ExtraConfig
}

// ARLServer is a running ARL API server.
type ARLServer struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

type completedConfig struct {
	GenericConfig genericapiserver.CompletedConfig
	ExtraConfig   *ExtraConfig
}

// CompletedConfig embeds a private pointer that cannot be instantiated outside of this package.
type CompletedConfig struct {
	*completedConfig
}

// Complete fills in what the config left unset.
func (cfg *Config) Complete() CompletedConfig {
	return CompletedConfig{&completedConfig{
		GenericConfig: cfg.GenericConfig.Complete(),
		ExtraConfig:   &cfg.ExtraConfig,
	}}
}

// New returns an ARL API server with every resource installed and, when a
// pool runtime is configured, the pool manager started after the server.
func (c completedConfig) New() (*ARLServer, error) {
	genericServer, err := c.GenericConfig.New("arl-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	s := &ARLServer{GenericAPIServer: genericServer}
	registerMetrics()

	if c.ExtraConfig.ServeEvents {
		sink, err := eventSink(c.GenericConfig.LoopbackClientConfig)
		if err != nil {
			return nil, err
		}
		if c.ExtraConfig.Recorder == nil {
			broadcaster := record.NewBroadcaster()
			c.ExtraConfig.Recorder = broadcaster.NewRecorder(EventScheme(), corev1.EventSource{Component: "arl-apiserver"})
			c.ExtraConfig.EventBroadcaster, c.ExtraConfig.EventSink = broadcaster, sink
		}
	}
	if broadcaster := c.ExtraConfig.EventBroadcaster; broadcaster != nil {
		s.GenericAPIServer.AddPostStartHookOrDie("arl-events", recordEvents(broadcaster, c.ExtraConfig.EventSink))
	}

	if guard := c.ExtraConfig.StoreGuard; guard != nil {
		s.GenericAPIServer.AddPostStartHookOrDie("arl-store-guard", func(hook genericapiserver.PostStartHookContext) error {
			go guard.Run(klog.NewContext(hook, klog.Background().WithName("storeguard")))
			return nil
		})
		if err := s.GenericAPIServer.AddReadyzChecks(guard.ReadyzCheck()); err != nil {
			return nil, err
		}
	}

	var wl *workloads
	var deps storageDeps
	if c.ExtraConfig.PoolRuntime != nil {
		wl, err = newWorkloads(c.GenericConfig.LoopbackClientConfig, c.ExtraConfig, c.GenericConfig.TracerProvider)
		if err != nil {
			return nil, err
		}
		deps = storageDeps{binder: wl.binder(), executor: wl.executor, agents: wl.agents, peers: c.ExtraConfig.Peers, executorStores: wl.stores}
	}
	if c.ExtraConfig.ServeEvents {
		var pods *pool.Agents
		if wl != nil {
			pods = wl.agents
		}
		if err := installCoreAPI(s.GenericAPIServer, c.GenericConfig.RESTOptionsGetter, pods); err != nil {
			return nil, err
		}
	}

	// tasks/exec creates the Task of its body with the authorizer and the
	// admission chain a `create tasks` meets in the handler chain.
	taskChecks := taskstorage.CreateChecks{
		Authorizer:          c.GenericConfig.Authorization.Authorizer,
		Admission:           c.GenericConfig.AdmissionControl,
		EquivalentResources: s.GenericAPIServer.EquivalentResourceRegistry,
	}
	poolOpts := warmpool.Options{PrivilegedNamespaces: sets.New(c.ExtraConfig.PrivilegedPoolNamespaces...)}
	if warner, ok := c.ExtraConfig.PoolRuntime.(pool.TemplateWarner); ok {
		poolOpts.TemplateWarnings = warner.TemplateWarnings
	}
	apiGroupInfo, err := newAPIGroupInfo(withClaimWriter(c.GenericConfig.RESTOptionsGetter, c.ExtraConfig.PoolRuntime), deps, taskChecks, poolOpts)
	if err != nil {
		return nil, err
	}
	if wl != nil {
		s.GenericAPIServer.AddPostStartHookOrDie("start-arl-pool", wl.start)
		delay := c.GenericConfig.ShutdownDelayDuration
		s.GenericAPIServer.AddPreShutdownHookOrDie("arl-drain-tasks", func() error {
			wl.drain(delay, c.ExtraConfig.ShutdownTaskGrace)
			return nil
		})
		if err := s.GenericAPIServer.AddReadyzChecks(wl.readyzCheck()); err != nil {
			return nil, err
		}
	}
	if err := s.GenericAPIServer.InstallAPIGroup(apiGroupInfo); err != nil {
		return nil, err
	}
	return s, nil
}

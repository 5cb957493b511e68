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
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/executor"
	sandboxstorage "github.com/arl-infra/arl/pkg/registry/arl/sandbox/storage"
	taskstorage "github.com/arl-infra/arl/pkg/registry/arl/task/storage"
	"github.com/arl-infra/arl/pkg/registry/arl/warmpool"
	warmpoolstorage "github.com/arl-infra/arl/pkg/registry/arl/warmpool/storage"
)

// storageDeps are what the storage calls into: all nil when the server
// runs no pods (Sandboxes stay Pending, Tasks are stored but never run).
type storageDeps struct {
	binder   sandboxstorage.Binder
	executor taskstorage.Executor
	agents   sandboxstorage.Agents
	peers    taskstorage.Peers
	// executorStores are bound to the storage built here.
	executorStores *executor.Stores
}

// newAPIGroupInfo lists every resource and subresource the server serves;
// taskChecks are what a Task created through tasks/exec passes, poolOpts
// what WarmPools may ask for.
func newAPIGroupInfo(optsGetter generic.RESTOptionsGetter, deps storageDeps, taskChecks taskstorage.CreateChecks, poolOpts warmpool.Options) (*genericapiserver.APIGroupInfo, error) {
	warmPools, err := warmpoolstorage.NewStorage(Scheme, optsGetter, poolOpts)
	if err != nil {
		return nil, err
	}
	sandboxes, err := sandboxstorage.NewStorage(Scheme, optsGetter, deps.binder, deps.agents)
	if err != nil {
		return nil, err
	}
	tasks, err := taskstorage.NewStorage(Scheme, optsGetter, deps.executor, deps.peers, Codecs.UniversalDecoder(), taskChecks)
	if err != nil {
		return nil, err
	}

	apiGroupInfo := genericapiserver.NewDefaultAPIGroupInfo(arl.GroupName, Scheme, ParameterCodec, Codecs)
	apiGroupInfo.NegotiatedSerializer = jsonOnly{Codecs}
	apiGroupInfo.VersionedResourcesStorageMap[v1alpha1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"warmpools":           warmPools.WarmPool,
		"warmpools/status":    warmPools.Status,
		"warmpools/scale":     warmPools.Scale,
		"sandboxes":           sandboxes.Sandbox,
		"sandboxes/status":    sandboxes.Status,
		"sandboxes/processes": sandboxes.Processes,
		"sandboxes/signal":    sandboxes.Signal,
		"sandboxes/reset":     sandboxes.Reset,
		"sandboxes/exec":      sandboxes.Exec,
		"sandboxes/files":     sandboxes.Files,
		"sandboxes/archive":   sandboxes.Archive,
		"sandboxes/metrics":   sandboxes.Metrics,
		"tasks":               tasks.Task,
		"tasks/status":        tasks.Status,
		"tasks/exec":          tasks.Exec,
		"tasks/log":           tasks.Log,
	}
	if deps.executorStores != nil {
		deps.executorStores.Bind(tasks.Task, tasks.Status, sandboxes.Sandbox, sandboxes.Status)
	}
	return &apiGroupInfo, nil
}

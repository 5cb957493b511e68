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

// Package storage serves Tasks and their subresources from etcd.
package storage

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/statusrest"
	"github.com/arl-infra/arl/pkg/registry/arl/task"
)

// TaskStorage groups the Task resource and its subresources.
type TaskStorage struct {
	Task   *REST
	Status *statusrest.REST
	Exec   *ExecREST
	Log    *LogREST
}

// NewStorage returns the etcd-backed storage of Tasks. executor (nil: Tasks
// are stored, never run) runs them; peers (nil: no other replica) reach
// the replica that runs a Task for its log; decoder reads tasks/exec bodies, whose
// Tasks pass checks before they are created.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, executor Executor, peers Peers, decoder runtime.Decoder, checks CreateChecks) (TaskStorage, error) {
	strategy := task.NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &arl.Task{} },
		NewListFunc:               func() runtime.Object { return &arl.TaskList{} },
		PredicateFunc:             task.Match,
		DefaultQualifiedResource:  arl.Resource("tasks"),
		SingularQualifiedResource: arl.Resource("task"),
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		ResetFieldsStrategy:       strategy,
		TableConvertor:            tableConvertor{},
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: task.GetAttrs}); err != nil {
		return TaskStorage{}, err
	}

	taskREST := &REST{Store: store, executor: executor}
	store.AfterDelete = taskREST.afterDelete

	statusStore := *store
	statusStrategy := task.NewStatusStrategy(strategy)
	statusStore.UpdateStrategy = statusStrategy
	statusStore.ResetFieldsStrategy = statusStrategy

	return TaskStorage{
		Task:   taskREST,
		Status: statusrest.New(&statusStore),
		Exec:   &ExecREST{tasks: taskREST, executor: executor, decoder: decoder, gate: newCreateGate(checks, scheme)},
		Log:    &LogREST{tasks: taskREST, executor: executor, peers: peers},
	}, nil
}

// REST serves Tasks.
type REST struct {
	*genericregistry.Store
	executor Executor
}

var (
	_ rest.StandardStorage    = &REST{}
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames implements rest.ShortNamesProvider.
func (r *REST) ShortNames() []string { return []string{"tk"} }

// Categories implements rest.CategoriesProvider: `kubectl get arl` lists every ARL kind.
func (r *REST) Categories() []string { return []string{"arl"} }

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

// Package storage serves Sandboxes and their status subresource from etcd.
package storage

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/sandbox"
	"github.com/arl-infra/arl/pkg/registry/arl/statusrest"
)

// SandboxStorage groups the Sandbox resource and its subresources.
type SandboxStorage struct {
	Sandbox   *REST
	Status    *statusrest.REST
	Processes *ProcessesREST
	Signal    *SignalREST
	Reset     *ResetREST
	Exec      *ExecREST
	Files     *FilesREST
	Archive   *ArchiveREST
	Metrics   *MetricsREST
}

// NewStorage returns the etcd-backed storage of Sandboxes; binder (nil: no
// pods, Sandboxes stay Pending) binds pods on create and frees them on delete.
// agents (nil: none) reaches Sandboxes' agents for the host-mode subresources.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, binder Binder, agents Agents) (SandboxStorage, error) {
	strategy := sandbox.NewStrategy(scheme)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &arl.Sandbox{} },
		NewListFunc:               func() runtime.Object { return &arl.SandboxList{} },
		PredicateFunc:             sandbox.Match,
		DefaultQualifiedResource:  arl.Resource("sandboxes"),
		SingularQualifiedResource: arl.Resource("sandbox"),
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		ResetFieldsStrategy:       strategy,
		TableConvertor:            tableConvertor{},
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: sandbox.GetAttrs}); err != nil {
		return SandboxStorage{}, err
	}

	sandboxREST := &REST{Store: store, binder: binder}
	store.AfterDelete = sandboxREST.afterDelete

	statusStore := *store
	statusStrategy := sandbox.NewStatusStrategy(strategy)
	statusStore.UpdateStrategy = statusStrategy
	statusStore.ResetFieldsStrategy = statusStrategy

	host := hostMode{sandboxes: sandboxREST, agents: agents}
	return SandboxStorage{
		Sandbox:   sandboxREST,
		Status:    statusrest.New(&statusStore),
		Processes: &ProcessesREST{host},
		Signal:    &SignalREST{host},
		Reset:     &ResetREST{host},
		Exec:      &ExecREST{host},
		Files:     &FilesREST{host},
		Archive:   &ArchiveREST{host},
		Metrics:   &MetricsREST{host},
	}, nil
}

// REST serves Sandboxes.
type REST struct {
	*genericregistry.Store
	binder Binder
}

var (
	_ rest.StandardStorage    = &REST{}
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames implements rest.ShortNamesProvider.
func (r *REST) ShortNames() []string { return []string{"sbx"} }

// Categories implements rest.CategoriesProvider: `kubectl get arl` lists every ARL kind.
func (r *REST) Categories() []string { return []string{"arl"} }

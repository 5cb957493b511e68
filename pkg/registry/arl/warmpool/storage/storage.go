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

// Package storage serves WarmPools and their status and scale subresources from etcd.
package storage

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/statusrest"
	"github.com/arl-infra/arl/pkg/registry/arl/warmpool"
)

// WarmPoolStorage groups the WarmPool resource and its subresources.
type WarmPoolStorage struct {
	WarmPool *REST
	Status   *statusrest.REST
	Scale    *ScaleREST
}

// NewStorage returns the etcd-backed storage of WarmPools.
func NewStorage(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter, opts warmpool.Options) (WarmPoolStorage, error) {
	strategy := warmpool.NewStrategy(scheme, opts)
	store := &genericregistry.Store{
		NewFunc:                   func() runtime.Object { return &arl.WarmPool{} },
		NewListFunc:               func() runtime.Object { return &arl.WarmPoolList{} },
		PredicateFunc:             warmpool.Match,
		DefaultQualifiedResource:  arl.Resource("warmpools"),
		SingularQualifiedResource: arl.Resource("warmpool"),
		CreateStrategy:            strategy,
		UpdateStrategy:            strategy,
		DeleteStrategy:            strategy,
		ResetFieldsStrategy:       strategy,
		TableConvertor:            tableConvertor{},
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: warmpool.GetAttrs}); err != nil {
		return WarmPoolStorage{}, err
	}

	statusStore := *store
	statusStrategy := warmpool.NewStatusStrategy(strategy)
	statusStore.UpdateStrategy = statusStrategy
	statusStore.ResetFieldsStrategy = statusStrategy

	return WarmPoolStorage{
		WarmPool: &REST{store},
		Status:   statusrest.New(&statusStore),
		Scale:    &ScaleREST{store: store},
	}, nil
}

// REST serves WarmPools.
type REST struct {
	*genericregistry.Store
}

var (
	_ rest.StandardStorage    = &REST{}
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames implements rest.ShortNamesProvider.
func (r *REST) ShortNames() []string { return []string{"wp"} }

// Categories implements rest.CategoriesProvider: `kubectl get arl` lists every ARL kind.
func (r *REST) Categories() []string { return []string{"arl"} }

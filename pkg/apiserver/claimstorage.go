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
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"
	"k8s.io/client-go/tools/cache"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
)

// claimWriter is a pool runtime whose pod claims live in ARL's etcd and
// can be written in the transaction of the Sandbox that takes the pod
// (package claims).
type claimWriter interface {
	SandboxStorage(inner storage.Interface, config *storagebackend.ConfigForResource, resourcePrefix string) storage.Interface
}

// withClaimWriter returns optsGetter, whose Sandboxes' storage writes the
// runtime's claims when it has any to write.
func withClaimWriter(optsGetter generic.RESTOptionsGetter, runtime pool.Runtime) generic.RESTOptionsGetter {
	writer, ok := runtime.(claimWriter)
	if !ok {
		return optsGetter
	}
	return claimWritingOptions{RESTOptionsGetter: optsGetter, writer: writer}
}

type claimWritingOptions struct {
	generic.RESTOptionsGetter
	writer claimWriter
}

// GetRESTOptions implements generic.RESTOptionsGetter: the Sandboxes'
// storage, cache included, is wrapped.
func (o claimWritingOptions) GetRESTOptions(resource schema.GroupResource, example runtime.Object) (generic.RESTOptions, error) {
	opts, err := o.RESTOptionsGetter.GetRESTOptions(resource, example)
	if err != nil || resource != arl.Resource("sandboxes") {
		return opts, err
	}
	decorate := opts.Decorator
	opts.Decorator = func(config *storagebackend.ConfigForResource, resourcePrefix string, keyFunc func(runtime.Object) (string, error),
		newFunc, newListFunc func() runtime.Object, getAttrs storage.AttrFunc, trigger storage.IndexerFuncs, indexers *cache.Indexers,
	) (storage.Interface, factory.DestroyFunc, error) {
		inner, destroy, err := decorate(config, resourcePrefix, keyFunc, newFunc, newListFunc, getAttrs, trigger, indexers)
		if err != nil {
			return nil, nil, err
		}
		return o.writer.SandboxStorage(inner, config, resourcePrefix), destroy, nil
	}
	return opts, nil
}

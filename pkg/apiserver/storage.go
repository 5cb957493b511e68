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
	sandboxstorage "github.com/arl-infra/arl/pkg/registry/arl/sandbox/storage"
	taskstorage "github.com/arl-infra/arl/pkg/registry/arl/task/storage"
	warmpoolstorage "github.com/arl-infra/arl/pkg/registry/arl/warmpool/storage"
)

// newAPIGroupInfo lists every resource and subresource the server serves.
func newAPIGroupInfo(optsGetter generic.RESTOptionsGetter, binder sandboxBinder) (*genericapiserver.APIGroupInfo, error) {
	warmPools, err := warmpoolstorage.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	sandboxes, err := sandboxstorage.NewStorage(Scheme, optsGetter, binder)
	if err != nil {
		return nil, err
	}
	tasks, err := taskstorage.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}

	apiGroupInfo := genericapiserver.NewDefaultAPIGroupInfo(arl.GroupName, Scheme, ParameterCodec, Codecs)
	apiGroupInfo.VersionedResourcesStorageMap[v1alpha1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"warmpools":        warmPools.WarmPool,
		"warmpools/status": warmPools.Status,
		"warmpools/scale":  warmPools.Scale,
		"sandboxes":        sandboxes.Sandbox,
		"sandboxes/status": sandboxes.Status,
		"tasks":            tasks.Task,
		"tasks/status":     tasks.Status,
	}
	return &apiGroupInfo, nil
}

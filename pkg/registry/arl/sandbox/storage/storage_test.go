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

package storage

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistrytest "k8s.io/apiserver/pkg/registry/generic/testing"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/registrytest"
)

func newStorage(t *testing.T) SandboxStorage {
	opts, scheme := registrytest.NewRESTOptions(t, "sandboxes")
	storage, err := NewStorage(scheme, opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(storage.Sandbox.Store.DestroyFunc)
	return storage
}

func validSandbox() *arl.Sandbox {
	return &arl.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: "my-workspace", Namespace: "test"},
		Spec:       arl.SandboxSpec{PoolRef: "python-pool", KeepAlive: true},
	}
}

func TestCreate(t *testing.T) {
	storage := newStorage(t)
	test := genericregistrytest.New(t, storage.Sandbox.Store)
	invalid := validSandbox()
	invalid.Spec.PoolRef = ""
	test.TestCreate(validSandbox(), invalid)
}

func TestUpdate(t *testing.T) {
	storage := newStorage(t)
	test := genericregistrytest.New(t, storage.Sandbox.Store)
	test.TestUpdate(validSandbox(),
		func(obj runtime.Object) runtime.Object {
			obj.(*arl.Sandbox).Spec.KeepAlive = false
			return obj
		},
		func(obj runtime.Object) runtime.Object {
			obj.(*arl.Sandbox).Spec.PoolRef = "another-pool"
			return obj
		})
}

func TestDelete(t *testing.T) {
	storage := newStorage(t)
	genericregistrytest.New(t, storage.Sandbox.Store).TestDelete(validSandbox())
}

func TestGetListWatchWithFieldSelectors(t *testing.T) {
	storage := newStorage(t)
	test := genericregistrytest.New(t, storage.Sandbox.Store)
	test.TestGet(validSandbox())
	test.TestList(validSandbox())
	test.TestWatch(validSandbox(),
		[]labels.Set{}, []labels.Set{{"a": "c"}},
		[]fields.Set{{"spec.poolRef": "python-pool"}, {"status.phase": "Pending"}, {"metadata.name": "my-workspace"}},
		[]fields.Set{{"spec.poolRef": "other-pool"}, {"status.phase": "Ready"}})
}

func TestCreateStartsPending(t *testing.T) {
	storage := newStorage(t)
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	sandbox := validSandbox()
	sandbox.Status = arl.SandboxStatus{Phase: arl.SandboxReady, PodName: "stolen-pod"}
	created, err := storage.Sandbox.Create(ctx, sandbox, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := created.(*arl.Sandbox).Status
	if status.Phase != arl.SandboxPending || status.PodName != "" || status.WorkDir != "/workspace" {
		t.Errorf("a client must not set status on create: got %+v", status)
	}
}

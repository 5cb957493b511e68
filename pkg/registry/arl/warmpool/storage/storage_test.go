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

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistrytest "k8s.io/apiserver/pkg/registry/generic/testing"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/registrytest"
	"github.com/arl-infra/arl/pkg/registry/arl/warmpool"
)

func newStorage(t *testing.T) WarmPoolStorage {
	opts, scheme := registrytest.NewRESTOptions(t, "warmpools")
	storage, err := NewStorage(scheme, opts, warmpool.Options{PrivilegedNamespaces: sets.New("trusted")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(storage.WarmPool.Store.DestroyFunc)
	return storage
}

func validPool() *arl.WarmPool {
	return &arl.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool", Namespace: "test"},
		Spec: arl.WarmPoolSpec{
			Replicas:    3,
			ReusePolicy: arl.ReusePolicyDelete,
			Network:     arl.PoolNetwork{Egress: arl.PoolEgress{Mode: arl.EgressInternet}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: arl.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"}},
			}}},
		},
	}
}

func TestCreate(t *testing.T) {
	storage := newStorage(t)
	test := genericregistrytest.New(t, storage.WarmPool.Store)
	invalid := validPool()
	invalid.Spec.Replicas = -1
	test.TestCreate(validPool(), invalid)
}

func TestUpdate(t *testing.T) {
	storage := newStorage(t)
	test := genericregistrytest.New(t, storage.WarmPool.Store)
	test.TestUpdate(validPool(),
		func(obj runtime.Object) runtime.Object {
			pool := obj.(*arl.WarmPool)
			pool.Spec.Replicas = 7
			return pool
		},
		func(obj runtime.Object) runtime.Object {
			pool := obj.(*arl.WarmPool)
			pool.Spec.ReusePolicy = "Recycle"
			return pool
		})
}

func TestDeleteGetListWatch(t *testing.T) {
	storage := newStorage(t)
	test := genericregistrytest.New(t, storage.WarmPool.Store)
	test.TestDelete(validPool())
	test.TestGet(validPool())
	test.TestList(validPool())
	test.TestWatch(validPool(),
		[]labels.Set{}, []labels.Set{{"a": "c"}},
		[]fields.Set{{"metadata.name": "python-pool"}}, []fields.Set{{"metadata.name": "other"}})
}

func TestStatusUpdateKeepsSpec(t *testing.T) {
	storage := newStorage(t)
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	created, err := storage.WarmPool.Create(ctx, validPool(), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	update := created.(*arl.WarmPool).DeepCopy()
	update.Spec.Replicas = 99
	update.Status.ReadyReplicas = 2
	if _, _, err := storage.Status.Update(ctx, update.Name, rest.DefaultUpdatedObjectInfo(update),
		rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := storage.WarmPool.Get(ctx, update.Name, &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pool := got.(*arl.WarmPool)
	if pool.Spec.Replicas != 3 || pool.Status.ReadyReplicas != 2 || pool.Generation != 1 {
		t.Errorf("status update: replicas=%d readyReplicas=%d generation=%d, want 3, 2, 1",
			pool.Spec.Replicas, pool.Status.ReadyReplicas, pool.Generation)
	}
}

func TestScale(t *testing.T) {
	storage := newStorage(t)
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	if _, err := storage.WarmPool.Create(ctx, validPool(), rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	obj, err := storage.Scale.Get(ctx, "python-pool", &metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scale := obj.(*autoscalingv1.Scale)
	if scale.Spec.Replicas != 3 || scale.Status.Selector != arl.IdlePodSelector("python-pool") {
		t.Errorf("scale = %+v", scale)
	}

	scale.Spec.Replicas = 5
	if _, _, err := storage.Scale.Update(ctx, "python-pool", rest.DefaultUpdatedObjectInfo(scale),
		rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ := storage.WarmPool.Get(ctx, "python-pool", &metav1.GetOptions{})
	if pool := got.(*arl.WarmPool); pool.Spec.Replicas != 5 || pool.Generation != 2 {
		t.Errorf("after scale: replicas=%d generation=%d, want 5, 2", pool.Spec.Replicas, pool.Generation)
	}

	scale.Spec.Replicas = -1
	scale.ResourceVersion = ""
	_, _, err = storage.Scale.Update(ctx, "python-pool", rest.DefaultUpdatedObjectInfo(scale),
		rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Errorf("negative scale: got %v, want Invalid", err)
	}

	if _, err := storage.Scale.Get(ctx, "missing", &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("scale of a missing pool: got %v, want NotFound", err)
	}
}

// TestPrivilegesPerNamespace: a template asking for the node's network is
// a 422 naming the field, on create and on update, except in the namespace
// the server's options allow ("trusted" here).
func TestPrivilegesPerNamespace(t *testing.T) {
	storage := newStorage(t)
	hostNetwork := func(ns string) *arl.WarmPool {
		pool := validPool()
		pool.Namespace = ns
		pool.Spec.Template.Spec.HostNetwork = true
		return pool
	}
	wantForbidden := func(err error) {
		t.Helper()
		status, ok := err.(apierrors.APIStatus)
		if !apierrors.IsInvalid(err) || !ok || status.Status().Details == nil || len(status.Status().Details.Causes) != 1 ||
			status.Status().Details.Causes[0].Field != "spec.template.spec.hostNetwork" {
			t.Fatalf("got %v, want a 422 naming spec.template.spec.hostNetwork", err)
		}
	}

	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	_, err := storage.WarmPool.Create(ctx, hostNetwork("test"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	wantForbidden(err)

	created, err := storage.WarmPool.Create(ctx, validPool(), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	update := created.(*arl.WarmPool).DeepCopy()
	update.Spec.Template.Spec.HostNetwork = true
	_, _, err = storage.WarmPool.Update(ctx, update.Name, rest.DefaultUpdatedObjectInfo(update),
		rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
	wantForbidden(err)

	trusted := genericapirequest.WithNamespace(genericapirequest.NewContext(), "trusted")
	if _, err := storage.WarmPool.Create(trusted, hostNetwork("trusted"), rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Errorf("create in the allowed namespace: %v", err)
	}
}

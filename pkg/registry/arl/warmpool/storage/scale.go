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
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// ScaleREST serves the scale subresource (autoscaling/v1 Scale), so that
// `kubectl scale warmpool` and autoscalers can set spec.replicas.
type ScaleREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Patcher                  = &ScaleREST{}
	_ rest.GroupVersionKindProvider = &ScaleREST{}
)

// GroupVersionKind implements rest.GroupVersionKindProvider.
func (r *ScaleREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return autoscalingv1.SchemeGroupVersion.WithKind("Scale")
}

// New implements rest.Storage.
func (r *ScaleREST) New() runtime.Object { return &autoscalingv1.Scale{} }

// Destroy implements rest.Storage. The store is shared with REST, which destroys it.
func (r *ScaleREST) Destroy() {}

// Get implements rest.Getter.
func (r *ScaleREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	obj, err := r.store.Get(ctx, name, options)
	if err != nil {
		return nil, err
	}
	return scaleFromWarmPool(obj.(*arl.WarmPool)), nil
}

// Update implements rest.Updater: it turns the new Scale into a WarmPool
// update, so preconditions, admission and validation all apply.
func (r *ScaleREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	obj, _, err := r.store.Update(ctx, name, &scaleUpdatedObjectInfo{name: name, reqObjInfo: objInfo},
		toScaleCreateValidation(createValidation), toScaleUpdateValidation(updateValidation), false, options)
	if err != nil {
		return nil, false, err
	}
	return scaleFromWarmPool(obj.(*arl.WarmPool)), false, nil
}

// ConvertToTable implements rest.TableConvertor.
func (r *ScaleREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return rest.NewDefaultTableConvertor(arl.Resource("warmpools/scale")).ConvertToTable(ctx, object, tableOptions)
}

func scaleFromWarmPool(pool *arl.WarmPool) *autoscalingv1.Scale {
	selector := pool.Status.Selector
	if selector == "" {
		selector = arl.IdlePodSelector(pool.Name)
	}
	return &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name:              pool.Name,
			Namespace:         pool.Namespace,
			UID:               pool.UID,
			ResourceVersion:   pool.ResourceVersion,
			CreationTimestamp: pool.CreationTimestamp,
		},
		Spec: autoscalingv1.ScaleSpec{Replicas: pool.Spec.Replicas},
		Status: autoscalingv1.ScaleStatus{
			Replicas: pool.Status.Replicas - pool.Status.AllocatedReplicas,
			Selector: selector,
		},
	}
}

func toScaleCreateValidation(f rest.ValidateObjectFunc) rest.ValidateObjectFunc {
	return func(ctx context.Context, obj runtime.Object) error {
		return f(ctx, scaleFromWarmPool(obj.(*arl.WarmPool)))
	}
}

func toScaleUpdateValidation(f rest.ValidateObjectUpdateFunc) rest.ValidateObjectUpdateFunc {
	return func(ctx context.Context, obj, old runtime.Object) error {
		return f(ctx, scaleFromWarmPool(obj.(*arl.WarmPool)), scaleFromWarmPool(old.(*arl.WarmPool)))
	}
}

// scaleUpdatedObjectInfo turns the stored pool into a Scale, lets the
// request update that, and writes its replicas back into the pool.
type scaleUpdatedObjectInfo struct {
	name       string
	reqObjInfo rest.UpdatedObjectInfo
}

func (i *scaleUpdatedObjectInfo) Preconditions() *metav1.Preconditions {
	return i.reqObjInfo.Preconditions()
}

func (i *scaleUpdatedObjectInfo) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	pool := oldObj.DeepCopyObject().(*arl.WarmPool)
	obj, err := i.reqObjInfo.UpdatedObject(ctx, scaleFromWarmPool(pool))
	if err != nil {
		return nil, err
	}
	scale, ok := obj.(*autoscalingv1.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected an autoscaling/v1 Scale, got %T", obj))
	}
	if errs := apimachineryvalidation.ValidateNonnegativeField(int64(scale.Spec.Replicas), field.NewPath("spec", "replicas")); len(errs) > 0 {
		return nil, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), i.name, errs)
	}
	if scale.ResourceVersion != "" {
		// The Scale's resourceVersion is the pool's: honour it as a precondition.
		pool.ResourceVersion = scale.ResourceVersion
	}
	pool.Spec.Replicas = scale.Spec.Replicas
	return pool, nil
}

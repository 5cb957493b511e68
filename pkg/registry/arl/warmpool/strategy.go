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

// Package warmpool holds the storage strategy of WarmPools.
package warmpool

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
)

// Options configure the WarmPool strategy.
type Options struct {
	// PrivilegedNamespaces are the namespaces whose pools' templates may ask
	// for what reaches past the pod (validation.ValidatePodTemplatePrivileges):
	// arl-apiserver's --privileged-pool-namespaces.
	PrivilegedNamespaces sets.Set[string]
	// TemplateWarnings, when set, adds the pool runtime's warnings about a
	// template (pool.TemplateWarner) to a create's and an update's.
	TemplateWarnings func(spec *corev1.PodSpec, specPath *field.Path) []string
}

// Strategy is the create, update and delete strategy of WarmPools.
type Strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	opts Options
}

// NewStrategy returns the strategy for WarmPools of the given scheme.
func NewStrategy(typer runtime.ObjectTyper, opts Options) Strategy {
	return Strategy{typer, names.SimpleNameGenerator, opts}
}

// validationOptions are what a pool in namespace may ask for.
func (s Strategy) validationOptions(namespace string) validation.WarmPoolOptions {
	return validation.WarmPoolOptions{AllowPrivileged: s.opts.PrivilegedNamespaces.Has(namespace)}
}

// NamespaceScoped implements rest.RESTCreateStrategy: pools are namespaced.
func (Strategy) NamespaceScoped() bool { return true }

// GetResetFields implements rest.ResetFieldsStrategy: users do not own status.
func (Strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"arl.infra.io/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate clears the status a client sent and starts the generation.
func (Strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	pool := obj.(*arl.WarmPool)
	pool.Status = arl.WarmPoolStatus{}
	pool.Generation = 1
}

// PrepareForUpdate keeps the stored status and bumps the generation when the spec changes.
func (Strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	pool, oldPool := obj.(*arl.WarmPool), old.(*arl.WarmPool)
	pool.Status = oldPool.Status
	if !apiequality.Semantic.DeepEqual(pool.Spec, oldPool.Spec) {
		pool.Generation = oldPool.Generation + 1
	}
}

// Validate implements rest.RESTCreateStrategy.
func (s Strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	pool := obj.(*arl.WarmPool)
	return validation.ValidateWarmPool(pool, s.validationOptions(pool.Namespace))
}

// WarningsOnCreate implements rest.RESTCreateStrategy.
func (s Strategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string {
	return s.warnings(obj.(*arl.WarmPool))
}

// Canonicalize implements rest.RESTCreateStrategy.
func (Strategy) Canonicalize(obj runtime.Object) {}

// AllowCreateOnUpdate implements rest.RESTUpdateStrategy.
func (Strategy) AllowCreateOnUpdate(ctx context.Context) bool { return false }

// AllowUnconditionalUpdate implements rest.RESTUpdateStrategy.
func (Strategy) AllowUnconditionalUpdate(ctx context.Context) bool { return true }

// ValidateUpdate implements rest.RESTUpdateStrategy.
func (s Strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	pool := obj.(*arl.WarmPool)
	return validation.ValidateWarmPoolUpdate(pool, old.(*arl.WarmPool), s.validationOptions(pool.Namespace))
}

// WarningsOnUpdate implements rest.RESTUpdateStrategy.
func (s Strategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return s.warnings(obj.(*arl.WarmPool))
}

// warnings flags pools that work but surprise: the template's own sidecar
// container (the manual's pools carry one) never runs, ARL's replaces it;
// the executor's command is what ARL's agent wraps, so without one the
// image's entrypoint never runs; an egress rule that covers a cloud
// metadata endpoint hands the node's cloud credentials to sandbox code;
// the runtime may run some templates otherwise than a cluster would.
func (s Strategy) warnings(pool *arl.WarmPool) []string {
	warnings := validation.WarningsForPoolNetwork(&pool.Spec.Network, field.NewPath("spec", "network"))
	if s.opts.TemplateWarnings != nil {
		warnings = append(warnings, s.opts.TemplateWarnings(&pool.Spec.Template.Spec, field.NewPath("spec", "template", "spec"))...)
	}
	if i := arl.UserSidecarIndex(&pool.Spec.Template.Spec); i >= 0 {
		warnings = append(warnings, fmt.Sprintf("spec.template.spec.containers[%d]: ARL's own %q container replaces this one in the pool's pods; nothing of it runs", i, arl.SidecarContainerName))
	}
	executor := arl.ExecutorContainerIndex(&pool.Spec.Template.Spec)
	if executor < 0 || len(pool.Spec.Template.Spec.Containers[executor].Command) > 0 {
		return warnings
	}
	return append(warnings, fmt.Sprintf("spec.template.spec.containers[%d].command: unset; ARL's agent keeps the container alive and the image's entrypoint does not run", executor))
}

// StatusStrategy is the update strategy of the status subresource.
type StatusStrategy struct {
	Strategy
}

// NewStatusStrategy returns the status strategy for WarmPools.
func NewStatusStrategy(strategy Strategy) StatusStrategy {
	return StatusStrategy{strategy}
}

// GetResetFields implements rest.ResetFieldsStrategy: status writers do not own spec.
func (StatusStrategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"arl.infra.io/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("spec")),
	}
}

// PrepareForUpdate keeps everything but the status as stored.
func (StatusStrategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	pool, oldPool := obj.(*arl.WarmPool), old.(*arl.WarmPool)
	pool.Spec = oldPool.Spec
}

// ValidateUpdate implements rest.RESTUpdateStrategy.
func (StatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateWarmPoolStatusUpdate(obj.(*arl.WarmPool), old.(*arl.WarmPool))
}

// WarningsOnUpdate implements rest.RESTUpdateStrategy.
func (StatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// GetAttrs returns the labels and the selectable fields of a WarmPool.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	pool, ok := obj.(*arl.WarmPool)
	if !ok {
		return nil, nil, fmt.Errorf("not a WarmPool: %T", obj)
	}
	return labels.Set(pool.Labels), generic.ObjectMetaFieldsSet(&pool.ObjectMeta, true), nil
}

// Match selects WarmPools by label and field.
func Match(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}

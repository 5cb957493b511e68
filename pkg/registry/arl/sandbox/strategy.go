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

// Package sandbox holds the storage strategy of Sandboxes.
package sandbox

import (
	"context"
	"fmt"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/names"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
)

// DefaultWorkDir is where Tasks run unless a step says otherwise.
const DefaultWorkDir = "/workspace"

// Strategy is the create, update and delete strategy of Sandboxes.
type Strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// NewStrategy returns the strategy for Sandboxes of the given scheme.
func NewStrategy(typer runtime.ObjectTyper) Strategy {
	return Strategy{typer, names.SimpleNameGenerator}
}

// NamespaceScoped implements rest.RESTCreateStrategy: sandboxes are namespaced.
func (Strategy) NamespaceScoped() bool { return true }

// GetResetFields implements rest.ResetFieldsStrategy: users do not own status.
func (Strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"arl.infra.io/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate discards the status a client sent. A new Sandbox starts
// with the status its bind produced (see WithInitialStatus), or Pending.
func (Strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	sandbox := obj.(*arl.Sandbox)
	sandbox.Status = arl.SandboxStatus{Phase: arl.SandboxPending, WorkDir: DefaultWorkDir}
	if status, ok := ctx.Value(initialStatusKey{}).(*arl.SandboxStatus); ok {
		sandbox.Status = *status
	}
	sandbox.Generation = 1
}

type initialStatusKey struct{}

// WithInitialStatus makes the Sandbox created with ctx start with status:
// the bind that precedes the create decides it, so the create response, and
// its single etcd write, already say Ready. Only server code can set it.
func WithInitialStatus(ctx context.Context, status arl.SandboxStatus) context.Context {
	return context.WithValue(ctx, initialStatusKey{}, &status)
}

// PrepareForUpdate keeps the stored status and bumps the generation when the spec changes.
func (Strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	sandbox, oldSandbox := obj.(*arl.Sandbox), old.(*arl.Sandbox)
	sandbox.Status = oldSandbox.Status
	if !apiequality.Semantic.DeepEqual(sandbox.Spec, oldSandbox.Spec) {
		sandbox.Generation = oldSandbox.Generation + 1
	}
}

// Validate implements rest.RESTCreateStrategy.
func (Strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateSandbox(obj.(*arl.Sandbox))
}

// WarningsOnCreate implements rest.RESTCreateStrategy.
func (Strategy) WarningsOnCreate(ctx context.Context, obj runtime.Object) []string { return nil }

// Canonicalize implements rest.RESTCreateStrategy.
func (Strategy) Canonicalize(obj runtime.Object) {}

// AllowCreateOnUpdate implements rest.RESTUpdateStrategy.
func (Strategy) AllowCreateOnUpdate(ctx context.Context) bool { return false }

// AllowUnconditionalUpdate implements rest.RESTUpdateStrategy.
func (Strategy) AllowUnconditionalUpdate(ctx context.Context) bool { return true }

// ValidateUpdate implements rest.RESTUpdateStrategy.
func (Strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateSandboxUpdate(obj.(*arl.Sandbox), old.(*arl.Sandbox))
}

// WarningsOnUpdate implements rest.RESTUpdateStrategy.
func (Strategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string { return nil }

// StatusStrategy is the update strategy of the status subresource.
type StatusStrategy struct {
	Strategy
}

// NewStatusStrategy returns the status strategy for Sandboxes.
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
	sandbox, oldSandbox := obj.(*arl.Sandbox), old.(*arl.Sandbox)
	sandbox.Spec = oldSandbox.Spec
}

// ValidateUpdate implements rest.RESTUpdateStrategy.
func (StatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateSandboxStatusUpdate(obj.(*arl.Sandbox), old.(*arl.Sandbox))
}

// WarningsOnUpdate implements rest.RESTUpdateStrategy.
func (StatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// SelectableFields are the fields `kubectl get sandboxes --field-selector` filters on.
func SelectableFields(sandbox *arl.Sandbox) fields.Set {
	return generic.AddObjectMetaFieldsSet(fields.Set{
		"spec.poolRef":   sandbox.Spec.PoolRef,
		"status.phase":   string(sandbox.Status.Phase),
		"status.podName": sandbox.Status.PodName,
	}, &sandbox.ObjectMeta, true)
}

// GetAttrs returns the labels and the selectable fields of a Sandbox.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	sandbox, ok := obj.(*arl.Sandbox)
	if !ok {
		return nil, nil, fmt.Errorf("not a Sandbox: %T", obj)
	}
	return labels.Set(sandbox.Labels), SelectableFields(sandbox), nil
}

// Match selects Sandboxes by label and field.
func Match(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}

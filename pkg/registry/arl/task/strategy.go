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

// Package task holds the storage strategy of Tasks.
package task

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

// Strategy is the create, update and delete strategy of Tasks.
type Strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
}

// NewStrategy returns the strategy for Tasks of the given scheme.
func NewStrategy(typer runtime.ObjectTyper) Strategy {
	return Strategy{typer, names.SimpleNameGenerator}
}

// NamespaceScoped implements rest.RESTCreateStrategy: tasks are namespaced.
func (Strategy) NamespaceScoped() bool { return true }

// GetResetFields implements rest.ResetFieldsStrategy: users do not own status.
func (Strategy) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set {
	return map[fieldpath.APIVersion]*fieldpath.Set{
		"arl.infra.io/v1alpha1": fieldpath.NewSet(fieldpath.MakePathOrDie("status")),
	}
}

// PrepareForCreate discards the status a client sent. A new Task starts
// with the status the executor decided (see WithInitialStatus), or Pending.
func (Strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	task := obj.(*arl.Task)
	task.Status = arl.TaskStatus{State: arl.TaskPending}
	if status, ok := ctx.Value(initialStatusKey{}).(*arl.TaskStatus); ok {
		task.Status = *status
	}
	task.Generation = 1
}

type initialStatusKey struct{}

// WithInitialStatus makes the Task created with ctx start with status: a
// Task that can run at once is stored Running, saving a write. Only server
// code can set it.
func WithInitialStatus(ctx context.Context, status arl.TaskStatus) context.Context {
	return context.WithValue(ctx, initialStatusKey{}, &status)
}

// PrepareForUpdate keeps the stored status and bumps the generation when the spec changes.
func (Strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	task, oldTask := obj.(*arl.Task), old.(*arl.Task)
	task.Status = oldTask.Status
	if !apiequality.Semantic.DeepEqual(task.Spec, oldTask.Spec) {
		task.Generation = oldTask.Generation + 1
	}
}

// Validate implements rest.RESTCreateStrategy.
func (Strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return validation.ValidateTask(obj.(*arl.Task))
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
	return validation.ValidateTaskUpdate(obj.(*arl.Task), old.(*arl.Task))
}

// WarningsOnUpdate implements rest.RESTUpdateStrategy.
func (Strategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string { return nil }

// StatusStrategy is the update strategy of the status subresource.
type StatusStrategy struct {
	Strategy
}

// NewStatusStrategy returns the status strategy for Tasks.
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
	task, oldTask := obj.(*arl.Task), old.(*arl.Task)
	task.Spec = oldTask.Spec
}

// ValidateUpdate implements rest.RESTUpdateStrategy.
func (StatusStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return validation.ValidateTaskStatusUpdate(obj.(*arl.Task), old.(*arl.Task))
}

// WarningsOnUpdate implements rest.RESTUpdateStrategy.
func (StatusStrategy) WarningsOnUpdate(ctx context.Context, obj, old runtime.Object) []string {
	return nil
}

// SelectableFields are the fields `kubectl get tasks --field-selector` filters on.
func SelectableFields(task *arl.Task) fields.Set {
	return generic.AddObjectMetaFieldsSet(fields.Set{
		"spec.sandboxRef": task.Spec.SandboxRef,
		"status.state":    string(task.Status.State),
	}, &task.ObjectMeta, true)
}

// GetAttrs returns the labels and the selectable fields of a Task.
func GetAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	task, ok := obj.(*arl.Task)
	if !ok {
		return nil, nil, fmt.Errorf("not a Task: %T", obj)
	}
	return labels.Set(task.Labels), SelectableFields(task), nil
}

// Match selects Tasks by label and field.
func Match(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
	return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: GetAttrs}
}

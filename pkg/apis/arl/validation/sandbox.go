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

package validation

import (
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

var supportedSandboxPhases = sets.New(
	string(arl.SandboxPending), string(arl.SandboxReady), string(arl.SandboxFailed), string(arl.SandboxTerminating))

// ValidateSandbox checks a new Sandbox.
func ValidateSandbox(sandbox *arl.Sandbox) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&sandbox.ObjectMeta, true, ValidateNameAsDNSLabel, field.NewPath("metadata"))
	return append(allErrs, ValidateSandboxSpec(&sandbox.Spec, field.NewPath("spec"))...)
}

// ValidateSandboxSpec checks a Sandbox's spec.
func ValidateSandboxSpec(spec *arl.SandboxSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateRef(spec.PoolRef, fldPath.Child("poolRef"))
	allErrs = append(allErrs, validatePositive(spec.IdleTimeoutSeconds, fldPath.Child("idleTimeoutSeconds"))...)
	allErrs = append(allErrs, validatePositive(spec.MaxLifetimeSeconds, fldPath.Child("maxLifetimeSeconds"))...)
	return append(allErrs, ValidateSandboxResources(&spec.Resources, fldPath.Child("resources"))...)
}

// ValidateSandboxUpdate checks an update: the pool a Sandbox draws from and
// the resources its pod was resized to cannot change, its lifetime
// settings can.
func ValidateSandboxUpdate(sandbox, old *arl.Sandbox) field.ErrorList {
	fldPath := field.NewPath("spec")
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&sandbox.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateSandboxSpec(&sandbox.Spec, fldPath)...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateImmutableField(sandbox.Spec.PoolRef, old.Spec.PoolRef, fldPath.Child("poolRef"))...)
	return append(allErrs, apimachineryvalidation.ValidateImmutableField(sandbox.Spec.Resources, old.Spec.Resources, fldPath.Child("resources"))...)
}

// ValidateSandboxStatusUpdate checks a write to the status subresource.
func ValidateSandboxStatusUpdate(sandbox, old *arl.Sandbox) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&sandbox.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	fldPath := field.NewPath("status")
	status := &sandbox.Status
	if !supportedSandboxPhases.Has(string(status.Phase)) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("phase"), status.Phase, sets.List(supportedSandboxPhases)))
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	return append(allErrs, validateConditions(status.Conditions, fldPath.Child("conditions"))...)
}

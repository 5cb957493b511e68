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

// Package validation checks ARL objects and answers with field paths, so a
// bad object is refused with a 422 that names the field.
package validation

import (
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateNameAsDNSLabel is for pools and sandboxes: their names become pod
// name prefixes and pod label values, so they must be DNS-1123 labels.
var ValidateNameAsDNSLabel = apimachineryvalidation.NameIsDNSLabel

// validateRef checks a reference to another object that must be a DNS-1123 label.
func validateRef(ref string, fldPath *field.Path) field.ErrorList {
	if ref == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var allErrs field.ErrorList
	for _, msg := range ValidateNameAsDNSLabel(ref, false) {
		allErrs = append(allErrs, field.Invalid(fldPath, ref, msg))
	}
	return allErrs
}

// validatePositive checks an optional value that must be > 0 when set.
func validatePositive(value *int32, fldPath *field.Path) field.ErrorList {
	if value != nil && *value <= 0 {
		return field.ErrorList{field.Invalid(fldPath, *value, "must be greater than 0")}
	}
	return nil
}

// validateNonNegative checks an optional value that must be >= 0 when set.
func validateNonNegative(value *int32, fldPath *field.Path) field.ErrorList {
	if value == nil {
		return nil
	}
	return apimachineryvalidation.ValidateNonnegativeField(int64(*value), fldPath)
}

// validateConditions checks the conditions a status writer sets.
var validateConditions = metav1validation.ValidateConditions

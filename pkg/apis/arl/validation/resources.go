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
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ResizableResources are what a Sandbox may set for its executor: the
// resources Kubernetes changes in a running container (pods/resize).
var ResizableResources = sets.New(string(corev1.ResourceCPU), string(corev1.ResourceMemory))

// ValidateSandboxResources checks a Sandbox's spec.resources on its own;
// whether they fit over its pool's template is checked when it is bound.
func ValidateSandboxResources(res *corev1.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, kind := range []struct {
		name string
		list corev1.ResourceList
	}{{"requests", res.Requests}, {"limits", res.Limits}} {
		for _, name := range slices.Sorted(maps.Keys(kind.list)) {
			q := kind.list[name]
			path := fldPath.Child(kind.name).Key(string(name))
			if !ResizableResources.Has(string(name)) {
				allErrs = append(allErrs, field.NotSupported(path, name, sets.List(ResizableResources)))
				continue
			}
			if q.Sign() <= 0 {
				allErrs = append(allErrs, field.Invalid(path, q.String(), "must be greater than zero"))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(res.Requests)) {
		request := res.Requests[name]
		if limit, ok := res.Limits[name]; ok && request.Cmp(limit) > 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("requests").Key(string(name)), request.String(),
				fmt.Sprintf("must be less than or equal to the %s limit %s", name, limit.String())))
		}
	}
	if len(res.Claims) > 0 {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("claims"), "a Sandbox cannot claim dynamic resources; its pool's template can"))
	}
	return allErrs
}

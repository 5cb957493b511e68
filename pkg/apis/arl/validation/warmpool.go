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
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// ReservedContainerName is the container ARL injects into every pool pod.
const ReservedContainerName = "sidecar"

// ReservedLabelPrefix marks the pod labels ARL manages itself.
const ReservedLabelPrefix = "arl.infra.io/"

var supportedReusePolicies = sets.New(string(arl.ReusePolicyDelete), string(arl.ReusePolicyReset))

// ValidateWarmPool checks a new WarmPool.
func ValidateWarmPool(pool *arl.WarmPool) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&pool.ObjectMeta, true, ValidateNameAsDNSLabel, field.NewPath("metadata"))
	return append(allErrs, ValidateWarmPoolSpec(&pool.Spec, field.NewPath("spec"))...)
}

// ValidateWarmPoolUpdate checks an update of a WarmPool's spec and metadata.
func ValidateWarmPoolUpdate(pool, old *arl.WarmPool) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&pool.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateWarmPoolSpec(&pool.Spec, field.NewPath("spec"))...)
}

// ValidateWarmPoolStatusUpdate checks a write to the status subresource.
func ValidateWarmPoolStatusUpdate(pool, old *arl.WarmPool) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&pool.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	fldPath := field.NewPath("status")
	status := &pool.Status
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(status.ObservedGeneration, fldPath.Child("observedGeneration"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(status.Replicas), fldPath.Child("replicas"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(status.ReadyReplicas), fldPath.Child("readyReplicas"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(status.AllocatedReplicas), fldPath.Child("allocatedReplicas"))...)
	return append(allErrs, validateConditions(status.Conditions, fldPath.Child("conditions"))...)
}

// ValidateWarmPoolSpec checks what can be checked of a pool without the
// core API's own validation; kube-apiserver validates the pods themselves
// and the pool reports their failures in its conditions.
func ValidateWarmPoolSpec(spec *arl.WarmPoolSpec, fldPath *field.Path) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateNonnegativeField(int64(spec.Replicas), fldPath.Child("replicas"))
	if !supportedReusePolicies.Has(string(spec.ReusePolicy)) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("reusePolicy"), spec.ReusePolicy, sets.List(supportedReusePolicies)))
	}
	return append(allErrs, validatePodTemplate(&spec.Template, fldPath.Child("template"))...)
}

func validatePodTemplate(template *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	metaPath := fldPath.Child("metadata")
	allErrs := metav1validation.ValidateLabels(template.Labels, metaPath.Child("labels"))
	for key := range template.Labels {
		if strings.HasPrefix(key, ReservedLabelPrefix) {
			allErrs = append(allErrs, field.Invalid(metaPath.Child("labels").Key(key), key, "is managed by ARL"))
		}
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(template.Annotations, metaPath.Child("annotations"))...)

	containersPath := fldPath.Child("spec", "containers")
	if len(template.Spec.Containers) == 0 {
		return append(allErrs, field.Required(containersPath, "the executor container (named \"executor\", or the first one)"))
	}
	names := sets.New[string]()
	for i, c := range template.Spec.Containers {
		idxPath := containersPath.Index(i)
		for _, msg := range utilvalidation.IsDNS1123Label(c.Name) {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("name"), c.Name, msg))
		}
		switch {
		case c.Name == ReservedContainerName:
			allErrs = append(allErrs, field.Invalid(idxPath.Child("name"), c.Name, fmt.Sprintf("%q is the container ARL injects", ReservedContainerName)))
		case names.Has(c.Name):
			allErrs = append(allErrs, field.Duplicate(idxPath.Child("name"), c.Name))
		}
		names.Insert(c.Name)
		if strings.TrimSpace(c.Image) == "" {
			allErrs = append(allErrs, field.Required(idxPath.Child("image"), ""))
		}
	}
	return allErrs
}

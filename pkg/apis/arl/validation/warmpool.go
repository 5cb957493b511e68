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

// ReservedContainerNames are the containers ARL injects into every pool
// pod (the sidecar and the init container that installs the agent); pod
// container names are unique across init and regular containers. A regular
// container named arl.SidecarContainerName is the one exception: ARL's
// sidecar replaces it (the manual's pools all carry one).
var ReservedContainerNames = sets.New(arl.SidecarContainerName, arl.InstallContainerName)

// ReservedVolumeNames are the volumes ARL injects.
var ReservedVolumeNames = sets.New("arl", "arl-sidecar-tls", "arl-workspace")

// ReservedSecretNames hold ARL's keys: the sidecars' serving key (in each
// pool namespace) and the CA that signs sidecar and client certificates (in
// arl-apiserver's namespace). A template may not hand them to its containers.
var ReservedSecretNames = sets.New("arl-sidecar-tls", "arl-sidecar-ca")

var supportedReusePolicies = sets.New(string(arl.ReusePolicyDelete), string(arl.ReusePolicyReset))

// ValidateWarmPool checks a new WarmPool.
func ValidateWarmPool(pool *arl.WarmPool, opts WarmPoolOptions) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&pool.ObjectMeta, true, ValidateNameAsDNSLabel, field.NewPath("metadata"))
	return append(allErrs, ValidateWarmPoolSpec(&pool.Spec, field.NewPath("spec"), opts)...)
}

// ValidateWarmPoolUpdate checks an update of a WarmPool's spec and metadata.
// The template is checked as on create, privileges included: a namespace
// that lost --privileged-pool-namespaces cannot keep changing a privileged pool.
func ValidateWarmPoolUpdate(pool, old *arl.WarmPool, opts WarmPoolOptions) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&pool.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateWarmPoolSpec(&pool.Spec, field.NewPath("spec"), opts)...)
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
func ValidateWarmPoolSpec(spec *arl.WarmPoolSpec, fldPath *field.Path, opts WarmPoolOptions) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateNonnegativeField(int64(spec.Replicas), fldPath.Child("replicas"))
	if !supportedReusePolicies.Has(string(spec.ReusePolicy)) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("reusePolicy"), spec.ReusePolicy, sets.List(supportedReusePolicies)))
	}
	allErrs = append(allErrs, validatePodTemplate(&spec.Template, fldPath.Child("template"))...)
	if !opts.AllowPrivileged {
		allErrs = append(allErrs, ValidatePodTemplatePrivileges(&spec.Template.Spec, fldPath.Child("template", "spec"))...)
	}
	return append(allErrs, validatePoolNetwork(&spec.Network, fldPath.Child("network"))...)
}

func validatePodTemplate(template *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	metaPath := fldPath.Child("metadata")
	allErrs := metav1validation.ValidateLabels(template.Labels, metaPath.Child("labels"))
	for key := range template.Labels {
		if strings.HasPrefix(key, arl.LabelPrefix) {
			allErrs = append(allErrs, field.Invalid(metaPath.Child("labels").Key(key), key, "is managed by ARL"))
		}
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(template.Annotations, metaPath.Child("annotations"))...)

	specPath := fldPath.Child("spec")
	containersPath := specPath.Child("containers")
	if arl.ExecutorContainerIndex(&template.Spec) < 0 {
		allErrs = append(allErrs, field.Required(containersPath, "the executor container (named \"executor\", or the first one not named \"sidecar\")"))
	}
	names := sets.New[string]()
	checkContainers := func(containers []corev1.Container, path *field.Path, replaceable sets.Set[string]) {
		for i := range containers {
			c := &containers[i]
			idxPath := path.Index(i)
			for _, msg := range utilvalidation.IsDNS1123Label(c.Name) {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("name"), c.Name, msg))
			}
			switch {
			case ReservedContainerNames.Has(c.Name) && !replaceable.Has(c.Name):
				allErrs = append(allErrs, field.Invalid(idxPath.Child("name"), c.Name, fmt.Sprintf("%q is a container ARL injects", c.Name)))
			case names.Has(c.Name):
				allErrs = append(allErrs, field.Duplicate(idxPath.Child("name"), c.Name))
			}
			names.Insert(c.Name)
			if strings.TrimSpace(c.Image) == "" {
				allErrs = append(allErrs, field.Required(idxPath.Child("image"), ""))
			}
			allErrs = append(allErrs, validateSecretRefsOfContainer(c, idxPath)...)
		}
	}
	checkContainers(template.Spec.InitContainers, specPath.Child("initContainers"), nil)
	checkContainers(template.Spec.Containers, containersPath, sets.New(arl.SidecarContainerName))
	for i := range template.Spec.Volumes {
		allErrs = append(allErrs, validateVolume(&template.Spec.Volumes[i], specPath.Child("volumes").Index(i))...)
	}
	return allErrs
}

// validateVolume refuses ARL's volume names and volumes of ARL's Secrets.
func validateVolume(v *corev1.Volume, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if ReservedVolumeNames.Has(v.Name) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), v.Name, fmt.Sprintf("%q is a volume ARL injects", v.Name)))
	}
	if v.Secret != nil {
		allErrs = append(allErrs, validateSecretRef(v.Secret.SecretName, fldPath.Child("secret", "secretName"))...)
	}
	if v.Projected != nil {
		for j, source := range v.Projected.Sources {
			if source.Secret != nil {
				allErrs = append(allErrs, validateSecretRef(source.Secret.Name, fldPath.Child("projected", "sources").Index(j).Child("secret", "name"))...)
			}
		}
	}
	return allErrs
}

func validateSecretRefsOfContainer(c *corev1.Container, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, env := range c.Env {
		if env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil {
			allErrs = append(allErrs, validateSecretRef(env.ValueFrom.SecretKeyRef.Name, fldPath.Child("env").Index(i).Child("valueFrom", "secretKeyRef", "name"))...)
		}
	}
	for i, from := range c.EnvFrom {
		if from.SecretRef != nil {
			allErrs = append(allErrs, validateSecretRef(from.SecretRef.Name, fldPath.Child("envFrom").Index(i).Child("secretRef", "name"))...)
		}
	}
	return allErrs
}

func validateSecretRef(name string, fldPath *field.Path) field.ErrorList {
	if ReservedSecretNames.Has(name) {
		return field.ErrorList{field.Forbidden(fldPath, fmt.Sprintf("Secret %q holds ARL's keys: sandbox code must not read it", name))}
	}
	return nil
}

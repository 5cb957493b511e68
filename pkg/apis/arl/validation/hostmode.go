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

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/sidecar/procutil"
)

// ValidateSandboxSignal checks the body of POST sandboxes/{name}/signal.
func ValidateSandboxSignal(signal *arl.SandboxSignal, sandbox string) field.ErrorList {
	allErrs := validateSubresourceName(&signal.ObjectMeta, sandbox)
	switch {
	case signal.PID == 0 && signal.Tag == "":
		allErrs = append(allErrs, field.Required(field.NewPath("pid"), "a SandboxSignal names its process: pid or tag"))
	case signal.PID != 0 && signal.Tag != "":
		allErrs = append(allErrs, field.Invalid(field.NewPath("tag"), signal.Tag, "give pid or tag, not both"))
	case signal.PID < 0:
		// Negative pids mean process groups (and -1 every process) to kill(2).
		allErrs = append(allErrs, field.Invalid(field.NewPath("pid"), signal.PID, "must be a process id, greater than 0"))
	}
	if signal.Signal != "" {
		if _, err := procutil.ParseSignal(signal.Signal); err != nil {
			allErrs = append(allErrs, field.Invalid(field.NewPath("signal"), signal.Signal, err.Error()+`: a name ("SIGTERM", "TERM", "term") or a number`))
		}
	}
	return allErrs
}

// ValidateSandboxReset checks the body of POST sandboxes/{name}/reset.
func ValidateSandboxReset(reset *arl.SandboxReset, sandbox string) field.ErrorList {
	return validateSubresourceName(&reset.ObjectMeta, sandbox)
}

// validateSubresourceName: a subresource body may leave metadata.name out;
// if it names anything, it names the object of the URL (as a
// serviceaccounts/token request does).
func validateSubresourceName(meta *metav1.ObjectMeta, name string) field.ErrorList {
	if meta.Name != "" && meta.Name != name {
		return field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), meta.Name, fmt.Sprintf("must be empty or the Sandbox's name %q", name))}
	}
	return nil
}

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
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// maxExecCommandBytes bounds an exec's argv, which travels in the URL.
const maxExecCommandBytes = 64 << 10

// ValidateSandboxExecOptions checks the query of sandboxes/{name}/exec.
func ValidateSandboxExecOptions(opts *arl.SandboxExecOptions) field.ErrorList {
	var allErrs field.ErrorList
	if !opts.Stdin && !opts.Stdout && !opts.Stderr {
		allErrs = append(allErrs, field.Required(field.NewPath("stdout"), "attach at least one of stdin, stdout and stderr"))
	}
	if opts.TTY && opts.Stderr {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("stderr"), "a terminal (tty) has one output: stdout"))
	}
	cmdPath := field.NewPath("command")
	switch {
	case len(opts.Command) == 0 && !opts.TTY:
		allErrs = append(allErrs, field.Required(cmdPath, `the argv to run, e.g. ["sh", "-c", "ls"]; only a tty may leave it out for the sandbox's shell`))
	case len(opts.Command) > 0 && strings.TrimSpace(opts.Command[0]) == "":
		allErrs = append(allErrs, field.Invalid(cmdPath.Index(0), opts.Command[0], "must name a program"))
	}
	total := 0
	for i, arg := range opts.Command {
		total += len(arg)
		if strings.ContainsRune(arg, 0) {
			allErrs = append(allErrs, field.Invalid(cmdPath.Index(i), arg, "must not contain NUL"))
		}
	}
	if total > maxExecCommandBytes {
		allErrs = append(allErrs, field.TooLong(cmdPath, "", maxExecCommandBytes))
	}
	return allErrs
}

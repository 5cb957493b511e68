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
	"regexp"
	"strings"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

const (
	// MaxSteps bounds a Task's step list.
	MaxSteps = 256
	// MaxRetries bounds spec.retries.
	MaxRetries = 10
	// MaxStepNameLength bounds a step's name.
	MaxStepNameLength = 63
	// MaxTotalContentBytes bounds what a Task's steps carry (FilePatch
	// content, commands, environment, paths) as stored (StoredLen), well
	// below etcd's request limit (1.5 MiB) so the Task, its metadata and
	// its status always fit in one write.
	MaxTotalContentBytes = 1 << 20
	// MaxTraceIDLength bounds spec.traceID, which every log line and Event
	// of the Task carries.
	MaxTraceIDLength = 128
)

var (
	supportedStepTypes = sets.New(string(arl.StepFilePatch), string(arl.StepCommand))
	// Every step runs in the executor; the values are the manual SDK's.
	supportedStepContainers = sets.New("", string(arl.StepContainerExecutor), string(arl.StepContainerSidecar))
	supportedTaskStates     = sets.New(string(arl.TaskPending), string(arl.TaskRunning), string(arl.TaskSucceeded), string(arl.TaskFailed))
	// Step names are identifiers people write in YAML and Python
	// ("write_script", "run-tests", "step.1").
	stepNameRegexp = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
)

// ValidateTask checks a new Task.
func ValidateTask(task *arl.Task) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&task.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, ValidateTaskSpec(&task.Spec, field.NewPath("spec"))...)
}

// ValidateTaskSpec checks what a Task runs.
func ValidateTaskSpec(spec *arl.TaskSpec, fldPath *field.Path) field.ErrorList {
	allErrs := validateRef(spec.SandboxRef, fldPath.Child("sandboxRef"))
	allErrs = append(allErrs, validateSteps(spec.Steps, fldPath.Child("steps"))...)
	if spec.Timeout != nil && spec.Timeout.Duration <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("timeout"), spec.Timeout.Duration.String(), "must be greater than 0"))
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.Retries), fldPath.Child("retries"))...)
	if spec.Retries > MaxRetries {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("retries"), spec.Retries, fmt.Sprintf("must be at most %d", MaxRetries)))
	}
	if len(spec.TraceID) > MaxTraceIDLength {
		allErrs = append(allErrs, field.TooLong(fldPath.Child("traceID"), "", MaxTraceIDLength))
	}
	return append(allErrs, validateNonNegative(spec.TTLSecondsAfterFinished, fldPath.Child("ttlSecondsAfterFinished"))...)
}

func validateSteps(steps []arl.TaskStep, fldPath *field.Path) field.ErrorList {
	if len(steps) == 0 {
		return field.ErrorList{field.Required(fldPath, "at least one step")}
	}
	var allErrs field.ErrorList
	if len(steps) > MaxSteps {
		allErrs = append(allErrs, field.TooMany(fldPath, len(steps), MaxSteps))
	}
	names := sets.New[string]()
	contentBytes := 0
	for i := range steps {
		step := &steps[i]
		idxPath := fldPath.Index(i)
		allErrs = append(allErrs, validateStepName(step.Name, idxPath.Child("name"))...)
		if names.Has(step.Name) {
			allErrs = append(allErrs, field.Duplicate(idxPath.Child("name"), step.Name))
		}
		names.Insert(step.Name)
		contentBytes += stepStoredLen(step)
		if !supportedStepContainers.Has(string(step.Container)) {
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("container"), step.Container,
				[]string{string(arl.StepContainerExecutor), string(arl.StepContainerSidecar)}))
		}

		switch step.Type {
		case arl.StepFilePatch:
			allErrs = append(allErrs, validateFilePatch(step, idxPath)...)
		case arl.StepCommand:
			allErrs = append(allErrs, validateCommand(step, idxPath)...)
		case "":
			allErrs = append(allErrs, field.Required(idxPath.Child("type"), fmt.Sprintf("one of %q", sets.List(supportedStepTypes))))
		default:
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("type"), step.Type, sets.List(supportedStepTypes)))
		}
	}
	if contentBytes > MaxTotalContentBytes {
		allErrs = append(allErrs, field.Invalid(fldPath, fmt.Sprintf("%d bytes as stored", contentBytes),
			fmt.Sprintf("the steps' content, commands and environment must total at most %d bytes as stored "+
				"(JSON: '<', '>', '&' and control characters take 6 bytes each, quotes, backslashes and newlines 2)", MaxTotalContentBytes)))
	}
	return allErrs
}

// stepStoredLen is what a step's free-form strings take in the store.
func stepStoredLen(step *arl.TaskStep) int {
	n := StoredLen(step.Content) + StoredLen(step.Path) + StoredLen(step.WorkDir)
	for _, arg := range step.Command {
		n += StoredLen(arg)
	}
	for k, v := range step.Env {
		n += StoredLen(k) + StoredLen(v)
	}
	return n
}

func validateStepName(name string, fldPath *field.Path) field.ErrorList {
	switch {
	case name == "":
		return field.ErrorList{field.Required(fldPath, "")}
	case len(name) > MaxStepNameLength:
		return field.ErrorList{field.TooLong(fldPath, name, MaxStepNameLength)}
	case !stepNameRegexp.MatchString(name):
		return field.ErrorList{field.Invalid(fldPath, name,
			"must consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit")}
	}
	return nil
}

func validateFilePatch(step *arl.TaskStep, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	allErrs = append(allErrs, validatePath(step.Path, true, fldPath.Child("path"))...)
	if step.Mode != nil && (*step.Mode < 0 || *step.Mode > 07777) {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("mode"), *step.Mode, "must be a file mode between 0 and 07777 (octal)"))
	}
	const why = "only applies to Command steps"
	if len(step.Command) > 0 {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("command"), why))
	}
	if step.WorkDir != "" {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("workDir"), why))
	}
	if len(step.Env) > 0 {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("env"), why))
	}
	if step.Background {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("background"), why))
	}
	return allErrs
}

func validateCommand(step *arl.TaskStep, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch {
	case len(step.Command) == 0:
		allErrs = append(allErrs, field.Required(fldPath.Child("command"), "the argv to run, e.g. [\"python\", \"main.py\"]"))
	case strings.TrimSpace(step.Command[0]) == "":
		allErrs = append(allErrs, field.Invalid(fldPath.Child("command").Index(0), step.Command[0], "must name a program"))
	}
	for i, arg := range step.Command {
		if strings.ContainsRune(arg, 0) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("command").Index(i), arg, "must not contain NUL"))
		}
	}
	allErrs = append(allErrs, validatePath(step.WorkDir, false, fldPath.Child("workDir"))...)
	for key, value := range step.Env {
		for _, msg := range utilvalidation.IsEnvVarName(key) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("env").Key(key), key, msg))
		}
		if strings.ContainsRune(value, 0) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("env").Key(key), value, "must not contain NUL"))
		}
	}
	const why = "only applies to FilePatch steps"
	if step.Path != "" {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("path"), why))
	}
	if step.Content != "" {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("content"), why))
	}
	if step.Mode != nil {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("mode"), why))
	}
	return allErrs
}

func validatePath(path string, required bool, fldPath *field.Path) field.ErrorList {
	switch {
	case path == "" && required:
		return field.ErrorList{field.Required(fldPath, "the file to write, e.g. /workspace/main.py")}
	case strings.ContainsRune(path, 0):
		return field.ErrorList{field.Invalid(fldPath, path, "must not contain NUL")}
	case len(path) > 4096:
		return field.ErrorList{field.TooLong(fldPath, "", 4096)}
	}
	return nil
}

// ValidateTaskUpdate checks an update: what a Task runs cannot change once
// it exists; only ttlSecondsAfterFinished can.
func ValidateTaskUpdate(task, old *arl.Task) field.ErrorList {
	fldPath := field.NewPath("spec")
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&task.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateNonNegative(task.Spec.TTLSecondsAfterFinished, fldPath.Child("ttlSecondsAfterFinished"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateImmutableField(task.Spec.SandboxRef, old.Spec.SandboxRef, fldPath.Child("sandboxRef"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateImmutableField(task.Spec.Steps, old.Spec.Steps, fldPath.Child("steps"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateImmutableField(task.Spec.Timeout, old.Spec.Timeout, fldPath.Child("timeout"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateImmutableField(task.Spec.TraceID, old.Spec.TraceID, fldPath.Child("traceID"))...)
	return append(allErrs, apimachineryvalidation.ValidateImmutableField(task.Spec.Retries, old.Spec.Retries, fldPath.Child("retries"))...)
}

// ValidateTaskStatusUpdate checks a write to the status subresource. A
// finished Task keeps its result: its state cannot change again.
func ValidateTaskStatusUpdate(task, old *arl.Task) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&task.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	fldPath := field.NewPath("status")
	status := &task.Status
	if status.State != "" && !supportedTaskStates.Has(string(status.State)) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("state"), status.State, sets.List(supportedTaskStates)))
	}
	if old.Status.State.IsFinished() && status.State != old.Status.State {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("state"), fmt.Sprintf("the Task already finished as %s", old.Status.State)))
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(status.Attempts), fldPath.Child("attempts"))...)
	return append(allErrs, validateConditions(status.Conditions, fldPath.Child("conditions"))...)
}

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
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

const (
	// maxFilePathBytes is PATH_MAX: the path travels in the URL.
	maxFilePathBytes = 4096
	// maxListDepth bounds view=list, like the agent does.
	maxListDepth = 64
)

// ValidateSandboxFileOptions checks the query of sandboxes/{name}/files for
// a request with the given HTTP method.
func ValidateSandboxFileOptions(opts *arl.SandboxFileOptions, method string) field.ErrorList {
	allErrs := validateSandboxPath(opts.Path, field.NewPath("path"))
	viewPath := field.NewPath("view")
	switch opts.View {
	case "", arl.SandboxFileViewContent, arl.SandboxFileViewStat, arl.SandboxFileViewList:
		if opts.View != "" && method != http.MethodGet {
			allErrs = append(allErrs, field.Forbidden(viewPath, "only a GET has a view"))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(viewPath, opts.View, []string{arl.SandboxFileViewContent, arl.SandboxFileViewStat, arl.SandboxFileViewList}))
	}
	if opts.Depth < 0 || opts.Depth > maxListDepth {
		allErrs = append(allErrs, field.Invalid(field.NewPath("depth"), opts.Depth, "must be between 0 and 64"))
	} else if opts.Depth != 0 && opts.View != arl.SandboxFileViewList {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("depth"), "only view=list has a depth"))
	}
	reads := method == http.MethodGet && (opts.View == "" || opts.View == arl.SandboxFileViewContent)
	for _, r := range []struct {
		name  string
		value int64
	}{{"offset", opts.Offset}, {"length", opts.Length}} {
		switch {
		case r.value < 0:
			allErrs = append(allErrs, field.Invalid(field.NewPath(r.name), r.value, "must not be negative"))
		case r.value != 0 && !reads:
			allErrs = append(allErrs, field.Forbidden(field.NewPath(r.name), "only a GET of the content has a range"))
		}
	}
	modePath := field.NewPath("mode")
	switch {
	case opts.Mode < 0 || opts.Mode > 0o7777:
		allErrs = append(allErrs, field.Invalid(modePath, opts.Mode, "must be permission bits, 0 to 07777 (4095)"))
	case opts.Mode != 0 && method != http.MethodPut && method != http.MethodPost:
		allErrs = append(allErrs, field.Forbidden(modePath, "only a PUT or a POST sets a mode"))
	}
	if opts.Parents && method != http.MethodPut && method != http.MethodPost {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("parents"), "only a PUT or a POST makes directories"))
	}
	if opts.Recursive && method != http.MethodDelete {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("recursive"), "only a DELETE is recursive"))
	}
	return allErrs
}

// ValidateSandboxArchiveOptions checks the query of sandboxes/{name}/archive.
func ValidateSandboxArchiveOptions(opts *arl.SandboxArchiveOptions) field.ErrorList {
	return validateSandboxPath(opts.Path, field.NewPath("path"))
}

// validateSandboxPath applies the rules the agent applies without looking at
// the filesystem, so that most bad paths get a 422 naming the field.
func validateSandboxPath(p string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch {
	case p == "":
		allErrs = append(allErrs, field.Required(fldPath, "absolute, or relative to the workspace"))
	case len(p) > maxFilePathBytes:
		allErrs = append(allErrs, field.TooLong(fldPath, "", maxFilePathBytes))
	case strings.ContainsRune(p, 0):
		allErrs = append(allErrs, field.Invalid(fldPath, p, "must not contain NUL"))
	default:
		for _, elem := range strings.Split(p, "/") {
			if elem == ".." {
				allErrs = append(allErrs, field.Invalid(fldPath, p, "must not contain '..' elements"))
				break
			}
		}
	}
	return allErrs
}

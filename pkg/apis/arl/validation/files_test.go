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
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

func TestValidateSandboxFileOptions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		opts   arl.SandboxFileOptions
		want   []string
	}{
		{"read", http.MethodGet, arl.SandboxFileOptions{Path: "a/b", Offset: 5, Length: 3}, nil},
		{"list to depth 3", http.MethodGet, arl.SandboxFileOptions{Path: "/", View: "list", Depth: 3}, nil},
		{"write with mode and parents", http.MethodPut, arl.SandboxFileOptions{Path: "x", Mode: 0o755, Parents: true}, nil},
		{"recursive delete", http.MethodDelete, arl.SandboxFileOptions{Path: "x", Recursive: true}, nil},
		{"no path", http.MethodGet, arl.SandboxFileOptions{}, []string{"FieldValueRequired path"}},
		{"a .. element", http.MethodGet, arl.SandboxFileOptions{Path: "a/../../etc"}, []string{"FieldValueInvalid path"}},
		{"a NUL", http.MethodPut, arl.SandboxFileOptions{Path: "a\x00b"}, []string{"FieldValueInvalid path"}},
		{"a path past PATH_MAX", http.MethodGet, arl.SandboxFileOptions{Path: strings.Repeat("a", 4097)}, []string{"FieldValueTooLong path"}},
		{"an unknown view", http.MethodGet, arl.SandboxFileOptions{Path: "x", View: "tree"}, []string{"FieldValueNotSupported view"}},
		{"a view on a PUT", http.MethodPut, arl.SandboxFileOptions{Path: "x", View: "stat"}, []string{"FieldValueForbidden view"}},
		{"depth without list", http.MethodGet, arl.SandboxFileOptions{Path: "x", Depth: 2}, []string{"FieldValueForbidden depth"}},
		{"depth past 64", http.MethodGet, arl.SandboxFileOptions{Path: "x", View: "list", Depth: 65}, []string{"FieldValueInvalid depth"}},
		{"a negative offset", http.MethodGet, arl.SandboxFileOptions{Path: "x", Offset: -1}, []string{"FieldValueInvalid offset"}},
		{"a range on a stat", http.MethodGet, arl.SandboxFileOptions{Path: "x", View: "stat", Length: 1}, []string{"FieldValueForbidden length"}},
		{"a mode past 07777", http.MethodPut, arl.SandboxFileOptions{Path: "x", Mode: 0o10000}, []string{"FieldValueInvalid mode"}},
		{"a mode on a GET", http.MethodGet, arl.SandboxFileOptions{Path: "x", Mode: 0o644}, []string{"FieldValueForbidden mode"}},
		{"parents on a DELETE", http.MethodDelete, arl.SandboxFileOptions{Path: "x", Parents: true}, []string{"FieldValueForbidden parents"}},
		{"recursive on a PUT", http.MethodPut, arl.SandboxFileOptions{Path: "x", Recursive: true}, []string{"FieldValueForbidden recursive"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, errorsOf(ValidateSandboxFileOptions(&tc.opts, tc.method))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateSandboxArchiveOptions(t *testing.T) {
	if errs := ValidateSandboxArchiveOptions(&arl.SandboxArchiveOptions{Path: "src"}); len(errs) != 0 {
		t.Errorf("a plain path: %v", errs)
	}
	if diff := cmp.Diff([]string{"FieldValueInvalid path"}, errorsOf(ValidateSandboxArchiveOptions(&arl.SandboxArchiveOptions{Path: "../x"}))); diff != "" {
		t.Errorf("a .. path (-want +got):\n%s", diff)
	}
}

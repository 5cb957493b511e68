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

package agent

import (
	"path/filepath"
	"strings"
	"testing"
)

var (
	testWorkspace = "/workspace"
	testRoots     = []string{"/workspace", "/tmp/scratch"}
)

func TestLexicalPath(t *testing.T) {
	for _, tc := range []struct {
		base, path, want string
		wantErr          string
	}{
		{"", "hello.py", "/workspace/hello.py", ""},
		{"", "a/./b//c.txt", "/workspace/a/b/c.txt", ""},
		{"", "/workspace/x", "/workspace/x", ""},
		{"", "/workspace", "/workspace", ""},
		{"sub", "f", "/workspace/sub/f", ""},
		{"/tmp/scratch", "f", "/tmp/scratch/f", ""},
		{"", "", "", "empty"},
		{"", "../etc/passwd", "", "'..'"},
		{"", "a/../../etc", "", "'..'"},
		{"", "/workspace/../etc/passwd", "", "'..'"},
		{"", "a/..", "", "'..'"},
		{"..", "f", "", "'..'"},
		{"", "/etc/passwd", "", "outside"},
		{"", "/workspacex/f", "", "outside"},
		{"", "/tmp/scratchy", "", "outside"},
		{"/etc", "f", "", "outside"},
		{"", "a\x00b", "", "NUL"},
		{"", "..foo", "/workspace/..foo", ""}, // a name, not "..": allowed
	} {
		got, err := lexicalPath(testWorkspace, testRoots, tc.base, tc.path)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("(%q, %q): got %q, %v; want an error with %q", tc.base, tc.path, got, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("(%q, %q): got %q, %v; want %q", tc.base, tc.path, got, err, tc.want)
		}
	}
}

// FuzzLexicalPath checks the path rules' invariants: whatever the input, an
// accepted path is absolute, clean, under an allowed root and free of "..",
// and an input with a ".." element or a NUL byte is refused. Seeds live in
// testdata/fuzz/FuzzLexicalPath; run: go test -fuzz FuzzLexicalPath.
func FuzzLexicalPath(f *testing.F) {
	for _, s := range [][2]string{
		{"", "hello.py"}, {"", "../x"}, {"", "/workspace/../../etc"}, {"sub", "a/b"},
		{"/tmp/scratch", "../../workspace"}, {"", "/"}, {"", "."}, {"", "//workspace//a"},
		{"", "a/.../b"}, {"", "\x00"}, {"./..", "f"}, {"", "/tmp/scratch/.."},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, base, p string) {
		got, err := lexicalPath(testWorkspace, testRoots, base, p)
		dotdot := hasDotDot(p) || hasDotDot(base)
		nul := strings.ContainsRune(p+base, 0)
		if err != nil {
			if p != "" && !dotdot && !nul && !strings.Contains(err.Error(), "outside") {
				t.Fatalf("(%q, %q) refused for no rule: %v", base, p, err)
			}
			return
		}
		if dotdot || nul || p == "" {
			t.Fatalf("(%q, %q) accepted as %q", base, p, got)
		}
		if !filepath.IsAbs(got) || filepath.Clean(got) != got {
			t.Fatalf("(%q, %q) gave %q: not absolute and clean", base, p, got)
		}
		if !withinAny(got, testRoots) {
			t.Fatalf("(%q, %q) gave %q outside %v", base, p, got, testRoots)
		}
		if hasDotDot(got) {
			t.Fatalf("(%q, %q) gave %q with '..'", base, p, got)
		}
		// A relative path (with a relative or no base) stays in the workspace.
		if !filepath.IsAbs(p) && !filepath.IsAbs(base) && !within(got, testWorkspace) {
			t.Fatalf("(%q, %q) gave %q outside the workspace", base, p, got)
		}
	})
}

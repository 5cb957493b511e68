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
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// pathPolicy decides which paths UpdateFiles and ReadFile may touch.
//
// The rules, in order: a path is non-empty and holds no NUL byte; no element
// of it (or of the base path) is ".."; a relative path is joined to the base
// path (default: the workspace; a relative base joins the workspace); the
// cleaned result lies under an allowed root; and, resolving symbolic links,
// its directory (for a write, whose last element is replaced, not followed)
// or the file itself (for a read) still lies under an allowed root.
type pathPolicy struct {
	workspace string
	roots     []string
}

func newPathPolicy(workspace string, roots []string) (*pathPolicy, error) {
	clean := make([]string, 0, len(roots))
	for _, r := range roots {
		if !filepath.IsAbs(r) {
			return nil, fmt.Errorf("allowed root %q is not absolute", r)
		}
		clean = append(clean, filepath.Clean(r))
	}
	return &pathPolicy{workspace: filepath.Clean(workspace), roots: clean}, nil
}

// lexicalPath applies the rules that need no filesystem; it is what
// FuzzLexicalPath exercises.
func lexicalPath(workspace string, roots []string, base, p string) (string, error) {
	if p == "" {
		return "", errors.New("path is empty")
	}
	if strings.IndexByte(p, 0) >= 0 || strings.IndexByte(base, 0) >= 0 {
		return "", fmt.Errorf("path %q contains a NUL byte", p)
	}
	if hasDotDot(p) {
		return "", fmt.Errorf("path %q must not contain '..' elements", p)
	}
	if hasDotDot(base) {
		return "", fmt.Errorf("base path %q must not contain '..' elements", base)
	}
	switch {
	case base == "":
		base = workspace
	case !filepath.IsAbs(base):
		base = filepath.Join(workspace, base)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	p = filepath.Clean(p)
	if !withinAny(p, roots) {
		return "", fmt.Errorf("path %q is outside the allowed roots %v", p, roots)
	}
	return p, nil
}

func hasDotDot(p string) bool {
	for _, elem := range strings.Split(p, "/") {
		if elem == ".." {
			return true
		}
	}
	return false
}

func within(p, root string) bool {
	return root == "/" || p == root || strings.HasPrefix(p, root+"/")
}

func withinAny(p string, roots []string) bool {
	for _, r := range roots {
		if within(p, r) {
			return true
		}
	}
	return false
}

// unrestricted: with "/" among the roots symbolic links cannot lead outside.
func (pp *pathPolicy) unrestricted() bool {
	for _, r := range pp.roots {
		if r == "/" {
			return true
		}
	}
	return false
}

// forWrite returns the absolute path to write p (relative to base) to.
func (pp *pathPolicy) forWrite(base, p string) (string, error) {
	path, err := lexicalPath(pp.workspace, pp.roots, base, p)
	if err != nil {
		return "", status.Error(codes.InvalidArgument, err.Error())
	}
	if pp.unrestricted() {
		return path, nil
	}
	dir, err := realPrefix(filepath.Dir(path))
	if err != nil {
		return "", fsStatus("resolving", path, err)
	}
	if !withinAny(dir, pp.realRoots()) {
		return "", status.Errorf(codes.InvalidArgument, "path %q resolves to %q, outside the allowed roots %v", path, filepath.Join(dir, filepath.Base(path)), pp.roots)
	}
	return path, nil
}

// forRead returns the absolute path of p (relative to base) to read.
func (pp *pathPolicy) forRead(base, p string) (string, error) {
	path, err := lexicalPath(pp.workspace, pp.roots, base, p)
	if err != nil {
		return "", status.Error(codes.InvalidArgument, err.Error())
	}
	if pp.unrestricted() {
		return path, nil
	}
	real, err := evalSymlinks(path)
	if err != nil {
		return "", fsStatus("resolving", path, err)
	}
	if !withinAny(real, pp.realRoots()) {
		return "", status.Errorf(codes.InvalidArgument, "path %q resolves to %q, outside the allowed roots %v", path, real, pp.roots)
	}
	return path, nil
}

// realRoots resolves the roots now: a root may be (or become) a symlink.
func (pp *pathPolicy) realRoots() []string {
	out := make([]string, 0, len(pp.roots))
	for _, r := range pp.roots {
		if real, err := realPrefix(r); err == nil {
			out = append(out, real)
		} else {
			out = append(out, r)
		}
	}
	return out
}

// realPrefix resolves the symbolic links of the longest existing ancestor of
// p and appends the rest, which does not exist yet (and holds no "..").
func realPrefix(p string) (string, error) {
	rest := ""
	for {
		real, err := evalSymlinks(p)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", err
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// evalSymlinks is filepath.EvalSymlinks reporting a loop as the kernel does,
// ELOOP: EvalSymlinks' own "too many links" error carries no errno, and
// would answer Internal instead of FailedPrecondition.
func evalSymlinks(p string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	var pathErr *fs.PathError
	var errno syscall.Errno
	if err != nil && !errors.As(err, &pathErr) && !errors.As(err, &errno) {
		return "", &fs.PathError{Op: "resolve", Path: p, Err: syscall.ELOOP}
	}
	return real, err
}

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

package procutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Errors of LookPath, mapped by the agent to the shell's exit codes.
var (
	ErrNotFound      = errors.New("executable file not found")
	ErrNotExecutable = errors.New("permission denied")
)

// DefaultPath is the PATH container runtimes set when an image has none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// LookPath resolves file like a shell would for a command that runs with
// environment env in directory dir: a name with a slash is taken as is
// (relative to dir), anything else is searched in env's PATH.
func LookPath(file string, env []string, dir string) (string, error) {
	if strings.Contains(file, "/") {
		p := file
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		switch err := checkExecutable(p); {
		case errors.Is(err, errUnsearchable):
			// execve would fail with EACCES: the shell's 126.
			return "", fmt.Errorf("%s: %w", file, ErrNotExecutable)
		case err != nil:
			return "", fmt.Errorf("%s: %w", file, err)
		}
		return p, nil
	}
	pathEnv, ok := Getenv(env, "PATH")
	if !ok {
		pathEnv = DefaultPath
	}
	var denied bool
	for _, d := range filepath.SplitList(pathEnv) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, file)
		// A PATH directory this user may not search holds nothing it can
		// run (a sandbox's uid meets the host's /root/... entries): as a
		// shell, go on, and say "not found" if nothing else turns up.
		switch err := checkExecutable(p); {
		case err == nil:
			return p, nil
		case errors.Is(err, ErrNotExecutable):
			denied = true
		}
	}
	if denied {
		return "", fmt.Errorf("%s: %w", file, ErrNotExecutable)
	}
	return "", fmt.Errorf("%s: %w in $PATH", file, ErrNotFound)
}

// errUnsearchable: a directory on the way to the file may not be searched.
var errUnsearchable = errors.New("a directory on the way may not be searched")

func checkExecutable(p string) error {
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ErrNotFound
	case errors.Is(err, fs.ErrPermission):
		return errUnsearchable
	case err != nil:
		return ErrNotExecutable
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return ErrNotExecutable
	}
	return nil
}

// Getenv returns the value of the last assignment of key in env.
func Getenv(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

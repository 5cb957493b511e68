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
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
)

// Exit codes of commands that could not be started, as a shell (127, 126)
// and coreutils' env -C (125) report them.
const (
	exitNotFound      = 127
	exitNotExecutable = 126
	exitBadDirectory  = 125
)

// startError is a command that could not be started: the caller reports it
// as an exit code with the message on stderr, as a shell would.
type startError struct {
	code int32
	msg  string
}

func (e *startError) Error() string { return e.msg }

// commandSpec is a validated command.
type commandSpec struct {
	argv  []string
	env   []string
	dir   string
	stdin []byte // nil: /dev/null
}

// validateCommand checks what the kernel would refuse with a bare EINVAL.
func validateCommand(argv []string, env map[string]string) error {
	if len(argv) == 0 || argv[0] == "" {
		return status.Error(codes.InvalidArgument, "command is empty")
	}
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return status.Errorf(codes.InvalidArgument, "command[%d] contains a NUL byte", i)
		}
	}
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return status.Errorf(codes.InvalidArgument, "env name %q is invalid: it must be non-empty without '=' or NUL", k)
		}
		if strings.IndexByte(v, 0) >= 0 {
			return status.Errorf(codes.InvalidArgument, "env %s contains a NUL byte", k)
		}
	}
	return nil
}

// workingDir resolves a command's working directory against the workspace.
func (a *Agent) workingDir(dir string) string {
	if dir == "" {
		return a.cfg.Workspace
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(a.cfg.Workspace, dir)
	}
	return filepath.Clean(dir)
}

// resolve finds the executable and checks the directory, so that a command
// that cannot start is reported like a shell reports it.
func resolveCommand(spec *commandSpec) (string, error) {
	st, err := os.Stat(spec.dir)
	if err != nil {
		return "", &startError{exitBadDirectory, fmt.Sprintf("arl-sidecar: working directory %s: %v", spec.dir, errors.Unwrap(err))}
	}
	if !st.IsDir() {
		return "", &startError{exitBadDirectory, fmt.Sprintf("arl-sidecar: working directory %s: not a directory", spec.dir)}
	}
	path, err := procutil.LookPath(spec.argv[0], spec.env, spec.dir)
	if err != nil {
		code := int32(exitNotExecutable)
		if errors.Is(err, procutil.ErrNotFound) {
			code = exitNotFound
		}
		return "", &startError{code, "arl-sidecar: " + err.Error()}
	}
	return path, nil
}

func execErrno(path string, err error) error {
	code := int32(exitNotExecutable)
	if errors.Is(err, syscall.ENOENT) {
		code = exitNotFound
	}
	return &startError{code, fmt.Sprintf("arl-sidecar: exec %s: %v", path, err)}
}

// piped is a started command whose stdout and stderr are pipes.
type piped struct {
	pid    int
	start  time.Time
	exited <-chan procutil.Exit
	stdout *os.File // read ends
	stderr *os.File
	stdin  *os.File // write end, when the request had stdin
}

// startPiped starts spec in a new process group with stdout and stderr on
// pipes and stdin from spec.stdin (or /dev/null).
func (a *Agent) startPiped(spec *commandSpec) (*piped, error) {
	path, err := resolveCommand(spec)
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, status.Errorf(codes.ResourceExhausted, "creating a pipe: %v", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, status.Errorf(codes.ResourceExhausted, "creating a pipe: %v", err)
	}
	stdinFd := a.devNull.Fd()
	var inR, inW *os.File
	if spec.stdin != nil {
		if inR, inW, err = os.Pipe(); err != nil {
			outR.Close()
			outW.Close()
			errR.Close()
			errW.Close()
			return nil, status.Errorf(codes.ResourceExhausted, "creating a pipe: %v", err)
		}
		stdinFd = inR.Fd()
	}
	attr := &syscall.ProcAttr{
		Dir:   spec.dir,
		Env:   spec.env,
		Files: []uintptr{stdinFd, outW.Fd(), errW.Fd()},
		// Its own group: timeouts, cancel, signals and Reset reach the
		// command's descendants too.
		Sys: &syscall.SysProcAttr{Setpgid: true},
	}
	start := time.Now()
	pid, exited, err := a.reaper.StartProcess(path, spec.argv, attr)
	// The child has its copies; ours would keep the pipes from reaching EOF.
	outW.Close()
	errW.Close()
	if inR != nil {
		inR.Close()
	}
	if err != nil {
		outR.Close()
		errR.Close()
		if inW != nil {
			inW.Close()
		}
		return nil, execErrno(path, err)
	}
	return &piped{pid: pid, start: start, exited: exited, stdout: outR, stderr: errR, stdin: inW}, nil
}

// feedStdin writes data to the command's stdin and closes it. Closing w
// (when the command exits) unblocks a write the command never read.
func feedStdin(w *os.File, data []byte) {
	_, _ = w.Write(data)
	_ = w.Close()
}

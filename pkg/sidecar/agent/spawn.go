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

	"golang.org/x/sys/unix"
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

// validateCommand checks what the kernel would refuse with a bare EINVAL:
// a NUL byte in the argv, the environment or the working directory.
func validateCommand(argv []string, env map[string]string, dir string) error {
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
	if strings.IndexByte(dir, 0) >= 0 {
		return status.Error(codes.InvalidArgument, "working_dir contains a NUL byte")
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
	var toClose []int // the child's ends, closed once it has them
	defer func() {
		for _, fd := range toClose {
			unix.Close(fd)
		}
	}()
	var files []*os.File // our ends, closed if the start fails
	fail := func(err error) (*piped, error) {
		for _, f := range files {
			f.Close()
		}
		return nil, err
	}
	outR, outW, err := pipe(true)
	if err != nil {
		return fail(err)
	}
	files, toClose = append(files, outR), append(toClose, outW)
	errR, errW, err := pipe(true)
	if err != nil {
		return fail(err)
	}
	files, toClose = append(files, errR), append(toClose, errW)
	stdinFd := a.devNull.Fd()
	var inW *os.File
	if spec.stdin != nil {
		w, inR, err := pipe(false)
		if err != nil {
			return fail(err)
		}
		inW = w
		files, toClose = append(files, inW), append(toClose, inR)
		stdinFd = uintptr(inR)
	}
	attr := &syscall.ProcAttr{
		Dir:   spec.dir,
		Env:   spec.env,
		Files: []uintptr{stdinFd, uintptr(outW), uintptr(errW)},
		// Its own group: timeouts, cancel, signals and Reset reach the
		// command's descendants too.
		Sys: &syscall.SysProcAttr{Setpgid: true},
	}
	start := time.Now()
	pid, exited, err := a.reaper.StartProcess(path, spec.argv, attr)
	if err != nil {
		return fail(execErrno(path, err))
	}
	return &piped{pid: pid, start: start, exited: exited, stdout: outR, stderr: errR, stdin: inW}, nil
}

// pipe returns a pipe whose end for the child is a bare descriptor (it never
// enters Go's poller: the child gets it and we close it) and whose end for
// us is a non-blocking *os.File, so that reads can be interrupted and a
// pending write ends when the file is closed. readOurs: we read (the child
// writes); otherwise we write.
func pipe(readOurs bool) (*os.File, int, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, -1, status.Errorf(codes.ResourceExhausted, "creating a pipe: %v", err)
	}
	ours, theirs := p[0], p[1]
	if !readOurs {
		ours, theirs = p[1], p[0]
	}
	if err := unix.SetNonblock(ours, true); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, -1, status.Errorf(codes.Internal, "creating a pipe: %v", err)
	}
	return os.NewFile(uintptr(ours), "|pipe"), theirs, nil
}

// feedStdin writes data to the command's stdin and closes it. Closing w
// (when the command exits) unblocks a write the command never read.
func feedStdin(w *os.File, data []byte) {
	_, _ = w.Write(data)
	_ = w.Close()
}

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
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
)

// StartMain starts the container's own command under the agent, with the
// agent's stdio and working directory, in its own process group (the
// terminal's foreground group when stdin is a terminal). Reset spares it.
// The returned channel receives its exit.
func (a *Agent) StartMain(argv []string) (int, <-chan procutil.Exit, error) {
	if len(argv) == 0 {
		return 0, nil, errors.New("empty command")
	}
	cwd, err := os.Getwd()
	if err != nil {
		return 0, nil, err
	}
	path, err := procutil.LookPath(argv[0], a.env, cwd)
	if err != nil {
		return 0, nil, err
	}
	sys := &syscall.SysProcAttr{Setpgid: true}
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		sys.Foreground = true
		sys.Ctty = 0
	}
	pid, exited, err := a.reaper.StartProcess(path, argv, &syscall.ProcAttr{
		Env:   a.env,
		Files: []uintptr{0, 1, 2},
		Sys:   sys,
	})
	if err != nil {
		return 0, nil, fmt.Errorf("starting %s: %w", path, err)
	}
	a.mainMu.Lock()
	a.mainPid = pid
	a.mainMu.Unlock()
	return pid, exited, nil
}

// mainPgid is the main command's process group (its pid), or 0.
func (a *Agent) mainPgid() int {
	a.mainMu.Lock()
	defer a.mainMu.Unlock()
	return a.mainPid
}

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

// Package launcher is the privileged first step of a local sandbox: run as
// root by the local runtime (as `arl-sidecar launch`), it joins the
// sandbox's cgroups, makes the host paths the sandbox binds reachable
// under StageDir in a mount namespace of its own, drops to the sandbox's
// unprivileged uid with no-new-privileges and execs bubblewrap. Joining
// before the exec means no process of the sandbox ever runs outside its
// cgroups; staging means bubblewrap, running unprivileged, needs no search
// permission on the server's directories.
package launcher

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// StageDir is where the staged paths appear, each under its name. A tmpfs
// is mounted on its parent, /run, in the launcher's private mount
// namespace: the host's /run is untouched, and sandboxes never see it.
const StageDir = "/run/arl-stage"

// Spec is what to launch.
type Spec struct {
	UID, GID int
	// Cgroups are cgroup.procs files to join.
	Cgroups []string
	// Stage maps names to host paths bound at StageDir/name.
	Stage map[string]string
	// Command is bubblewrap and its arguments.
	Command []string
}

// Args is the command line of `arl-sidecar launch` for spec.
func (s *Spec) Args() []string {
	args := []string{"launch", "--uid", strconv.Itoa(s.UID), "--gid", strconv.Itoa(s.GID)}
	for _, cg := range s.Cgroups {
		args = append(args, "--cgroup", cg)
	}
	for name, path := range s.Stage {
		args = append(args, "--stage", name+"="+path)
	}
	return append(append(args, "--"), s.Command...)
}

// Parse reads the arguments after `launch`.
func Parse(args []string) (*Spec, error) {
	s := &Spec{Stage: map[string]string{}, UID: -1, GID: -1}
	for len(args) > 0 {
		flag := args[0]
		if flag == "--" {
			s.Command = args[1:]
			break
		}
		if len(args) < 2 {
			return nil, fmt.Errorf("%s needs a value", flag)
		}
		value := args[1]
		args = args[2:]
		var err error
		switch flag {
		case "--uid":
			s.UID, err = strconv.Atoi(value)
		case "--gid":
			s.GID, err = strconv.Atoi(value)
		case "--cgroup":
			s.Cgroups = append(s.Cgroups, value)
		case "--stage":
			name, path, ok := strings.Cut(value, "=")
			if !ok || name == "" || strings.Contains(name, "/") || !filepath.IsAbs(path) {
				return nil, fmt.Errorf("--stage %q: want NAME=/absolute/path", value)
			}
			s.Stage[name] = path
		default:
			return nil, fmt.Errorf("unknown flag %q", flag)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
	}
	switch {
	case s.UID <= 0 || s.GID <= 0:
		return nil, fmt.Errorf("--uid and --gid must name an unprivileged user")
	case len(s.Command) == 0:
		return nil, fmt.Errorf("no command after --")
	}
	return s, nil
}

// Exec launches spec in place of this process; it returns only on error.
func Exec(s *Spec) error {
	// Mount namespaces and no-new-privileges belong to a thread: the exec
	// must come from the thread that set them.
	runtime.LockOSThread()
	pid := strconv.Itoa(os.Getpid())
	for _, cg := range s.Cgroups {
		if err := os.WriteFile(cg, []byte(pid), 0); err != nil {
			return fmt.Errorf("joining cgroup: %w", err)
		}
	}
	if err := stage(s.Stage); err != nil {
		return err
	}
	if err := unix.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := unix.Setresgid(s.GID, s.GID, s.GID); err != nil {
		return fmt.Errorf("setresgid: %w", err)
	}
	if err := unix.Setresuid(s.UID, s.UID, s.UID); err != nil {
		return fmt.Errorf("setresuid: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	path := s.Command[0]
	if !filepath.IsAbs(path) {
		return fmt.Errorf("the command must be an absolute path: %q", path)
	}
	return unix.Exec(path, s.Command, os.Environ())
}

// stage binds each path at StageDir/name in a new private mount namespace.
func stage(paths map[string]string) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare mount namespace: %w", err)
	}
	// Nothing mounted here may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("making mounts private: %w", err)
	}
	parent := filepath.Dir(StageDir)
	if err := unix.Mount("tmpfs", parent, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=64k"); err != nil {
		return fmt.Errorf("mounting the stage: %w", err)
	}
	if err := os.Mkdir(StageDir, 0o755); err != nil {
		return err
	}
	for name, src := range paths {
		dst := filepath.Join(StageDir, name)
		info, err := os.Stat(src)
		if err != nil {
			return err
		}
		if info.IsDir() {
			err = os.Mkdir(dst, 0o755)
		} else {
			err = os.WriteFile(dst, nil, 0o644)
		}
		if err != nil {
			return err
		}
		if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("staging %s: %w", src, err)
		}
	}
	return nil
}

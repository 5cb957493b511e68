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

package local

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// In-sandbox paths.
const (
	workspaceDir  = "/workspace"
	runDir        = "/run/arl"
	agentBinary   = "/.arl/bin/arl-sidecar"
	agentSocket   = runDir + "/agent.sock"
	agentOOMEvent = "/.arl/oom-events"
)

// File descriptors bubblewrap inherits (after stdin, stdout, stderr).
const (
	infoFD    = 3
	seccompFD = 4
)

// hiddenTopLevel are host directories a sandbox never sees: the kernel's,
// the host's own scratch and runtime state.
var hiddenTopLevel = map[string]bool{
	"proc": true, "sys": true, "dev": true, "tmp": true, "run": true,
	"workspace": true, "lost+found": true, ".arl": true,
}

// sandboxSources are the host paths bubblewrap binds into a sandbox, as
// bubblewrap can reach them (staged by the launcher, or on the host).
type sandboxSources struct {
	workspace, tmp, run string
	sidecar             string
	// oomEvents is the sandbox cgroup's OOM counter file ("": no cgroup).
	oomEvents string
	// volumes are the executor's emptyDir mounts.
	volumes []volumeSource
}

// volumeSource is a directory bound into the sandbox at mountPath.
type volumeSource struct {
	host, mountPath string
	readOnly        bool
}

// bwrapArgs builds the bubblewrap command line of a local pod: a user
// namespace in which it is root with no capabilities (outside, the
// sandbox's own unprivileged uid) and from which no further user namespace
// can be made, a seccomp filter (on fd seccompFD), the host's top-level
// directories read-only, a private /workspace, /tmp and /run/arl, its own
// PID, network, IPC and UTS namespaces, and the agent as PID 1 wrapping the
// executor's command. hide are host paths (the server's data directory:
// certificates, other sandboxes) covered with an empty tmpfs, which a
// process without capabilities cannot unmount.
func bwrapArgs(hostname string, src sandboxSources, executor *corev1.Container, hide []string) []string {
	args := []string{
		"--unshare-user", "--uid", "0", "--gid", "0", "--disable-userns", "--cap-drop", "ALL",
		"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
		"--hostname", hostname,
		"--as-pid-1", "--new-session",
		"--info-fd", strconv.Itoa(infoFD),
		"--seccomp", strconv.Itoa(seccompFD),
	}
	entries, _ := os.ReadDir("/")
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		name := e.Name()
		if hiddenTopLevel[name] {
			continue
		}
		path := "/" + name
		info, err := os.Lstat(path)
		switch {
		case err != nil:
		case info.Mode()&os.ModeSymlink != 0:
			if target, err := os.Readlink(path); err == nil {
				args = append(args, "--symlink", target, path)
			}
		case info.IsDir():
			args = append(args, "--ro-bind", path, path)
		}
	}
	for _, h := range hide {
		args = append(args, "--tmpfs", h, "--remount-ro", h)
	}
	args = append(args,
		"--dev", "/dev",
		"--proc", "/proc",
		"--bind", src.workspace, workspaceDir,
		"--bind", src.tmp, "/tmp",
		"--bind", src.run, runDir,
		"--ro-bind", src.sidecar, agentBinary,
	)
	if src.oomEvents != "" {
		args = append(args, "--ro-bind", src.oomEvents, agentOOMEvent)
	}
	for _, v := range src.volumes {
		bind := "--bind"
		if v.readOnly {
			bind = "--ro-bind"
		}
		args = append(args, bind, v.host, v.mountPath)
	}
	args = append(args,
		"--chdir", workspaceDir,
		"--setenv", "HOME", "/tmp",
		"--setenv", "HOSTNAME", hostname,
	)
	for _, env := range executor.Env {
		if env.ValueFrom == nil {
			args = append(args, "--setenv", env.Name, env.Value)
		}
	}
	args = append(args, "--",
		agentBinary, "agent",
		"--socket", agentSocket,
		"--socket-mode", "0600",
		"--workspace", workspaceDir,
	)
	if src.oomEvents != "" {
		args = append(args, "--oom-events", agentOOMEvent)
	}
	if command := append(append([]string{}, executor.Command...), executor.Args...); len(command) > 0 {
		args = append(append(args, "--"), command...)
	}
	return args
}

// reachableByOthers says whether a user that owns none of path's
// directories can reach path: every directory on the way must let
// others search it. A sandbox's uid is such a user.
func reachableByOthers(path string) bool {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err != nil || info.Mode().Perm()&0o001 == 0 {
			return false
		}
		if dir == "/" {
			return true
		}
	}
}

// scrubbedEnv is the server's environment without what a sandbox must not
// inherit: ARL's own settings and the kubeconfig that reaches the server.
func scrubbedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "ARL_") || name == "KUBECONFIG" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

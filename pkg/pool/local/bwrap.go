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
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// In-sandbox paths.
const (
	workspaceDir = "/workspace"
	runDir       = "/run/arl"
	agentBinary  = "/.arl/bin/arl-sidecar"
	agentSocket  = runDir + "/agent.sock"
)

// hiddenTopLevel are host directories a sandbox never sees: the kernel's,
// the host's own scratch and runtime state.
var hiddenTopLevel = map[string]bool{
	"proc": true, "sys": true, "dev": true, "tmp": true, "run": true,
	"workspace": true, "lost+found": true, ".arl": true,
}

// bwrapArgs builds the bubblewrap command line of a local pod: the host's
// top-level directories read-only, a private /workspace, /tmp and /run/arl,
// its own PID, network, IPC and UTS namespaces, and the agent as PID 1
// wrapping the executor's command. hide are host paths (the server's data
// directory: certificates, other sandboxes) masked with an empty tmpfs.
func bwrapArgs(podDir, sidecarBinary string, executor *corev1.Container, hide []string) []string {
	args := []string{
		"--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
		"--hostname", filepath.Base(podDir),
		"--as-pid-1", "--new-session",
		"--info-fd", "3",
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
		args = append(args, "--tmpfs", h)
	}
	args = append(args,
		"--dev", "/dev",
		"--proc", "/proc",
		"--bind", filepath.Join(podDir, "workspace"), workspaceDir,
		"--bind", filepath.Join(podDir, "tmp"), "/tmp",
		"--bind", filepath.Join(podDir, "run"), runDir,
		"--ro-bind", sidecarBinary, agentBinary,
		"--chdir", workspaceDir,
		"--setenv", "HOME", "/tmp",
		"--setenv", "HOSTNAME", filepath.Base(podDir),
	)
	for _, env := range executor.Env {
		if env.ValueFrom == nil {
			args = append(args, "--setenv", env.Name, env.Value)
		}
	}
	args = append(args, "--",
		agentBinary, "agent",
		"--socket", agentSocket,
		"--socket-mode", "0666",
		"--workspace", workspaceDir,
	)
	if command := append(append([]string{}, executor.Command...), executor.Args...); len(command) > 0 {
		args = append(append(args, "--"), command...)
	}
	return args
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

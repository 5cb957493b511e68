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

package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// standaloneServer is an arl-apiserver --standalone started for the run.
type standaloneServer struct {
	cmd        *exec.Cmd
	dir        string
	kubeconfig string
}

func startStandalone(ctx context.Context, binary string) (*standaloneServer, error) {
	bin, err := filepath.Abs(binary)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "arlbench-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.CommandContext(ctx, bin, "--standalone", "--data-dir", dir, "--secure-port", fmt.Sprint(port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logs, err := os.Create(filepath.Join(dir, "apiserver.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s (run hack/build.sh first): %w", bin, err)
	}
	found := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if path, ok := strings.CutPrefix(scanner.Text(), "export KUBECONFIG="); ok {
				found <- path
			}
		}
	}()
	select {
	case path := <-found:
		time.Sleep(time.Second)
		return &standaloneServer{cmd: cmd, dir: dir, kubeconfig: path}, nil
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("arl-apiserver did not start; see %s", logs.Name())
	}
}

// stop stops the server and the local sandboxes it started.
func (s *standaloneServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_ = s.cmd.Wait()
	_ = exec.Command("pkill", "-9", "-f", "--", "--bind "+s.dir).Run()
	metas, _ := filepath.Glob(filepath.Join(s.dir, "pods", "*", "*", "pod.json"))
	for _, m := range metas {
		data, _ := os.ReadFile(m)
		var pid int
		if i := strings.Index(string(data), `"pid":`); i >= 0 {
			_, _ = fmt.Sscanf(string(data[i+6:]), "%d", &pid) // no pid: nothing to kill
		}
		if pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	_ = os.RemoveAll(s.dir)
}

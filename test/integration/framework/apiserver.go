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

package framework

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	clientset "github.com/arl-infra/arl/pkg/generated/clientset/versioned"
	"github.com/arl-infra/arl/pkg/pool/local"
)

// Standalone is a running `arl-apiserver --standalone` process.
type Standalone struct {
	t       testing.TB
	DataDir string
	Port    int
	// Kubeconfig is the admin kubeconfig the server wrote.
	Kubeconfig string
	// Args are extra flags given at every start.
	Args []string

	cmd  *exec.Cmd
	logs *os.File
	exit chan error
}

// StartStandalone starts a standalone server with its data in a fresh
// directory and stops it when the test ends.
func StartStandalone(t testing.TB, args ...string) *Standalone {
	t.Helper()
	return StartStandaloneAt(t, t.TempDir(), args...)
}

// StartStandaloneAt is StartStandalone with the data in dataDir.
func StartStandaloneAt(t testing.TB, dataDir string, args ...string) *Standalone {
	t.Helper()
	s := &Standalone{t: t, DataDir: dataDir, Args: args}
	s.Start()
	t.Cleanup(func() {
		s.Stop()
		s.KillSandboxes()
	})
	return s
}

// KillSandboxes kills the local sandboxes the server started: they outlive
// the server by design, the test's processes must not. Their cgroups go too.
func (s *Standalone) KillSandboxes() {
	defer func() {
		if err := local.DestroyAll(filepath.Join(s.DataDir, "pods")); err != nil {
			s.t.Errorf("removing the sandboxes' cgroups: %v", err)
		}
	}()
	metas, _ := filepath.Glob(filepath.Join(s.DataDir, "pods", "*", "*", "pod.json"))
	for _, path := range metas {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var meta struct {
			PID int `json:"pid"`
		}
		if json.Unmarshal(data, &meta) == nil && meta.PID > 0 {
			if cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", meta.PID)); err == nil && strings.Contains(string(cmdline), "arl-sidecar") {
				_ = syscall.Kill(meta.PID, syscall.SIGKILL)
			}
		}
	}
}

// Start starts the server (again) on the same data directory and waits
// until it has written its kubeconfig and answers /readyz.
func (s *Standalone) Start() {
	s.t.Helper()
	s.StartUnready()
	s.waitReady()
}

// StartUnready starts the server (again) and waits until it has written
// its kubeconfig, ready or not (a server that refuses its store never is).
func (s *Standalone) StartUnready() {
	t := s.t
	t.Helper()
	bin, err := Binary("arl-apiserver")
	if err != nil {
		t.Fatal(err)
	}
	pickPort := s.Port == 0
	for attempt := 1; ; attempt++ {
		if pickPort {
			s.Port = freePort(t)
		}
		err := s.start(bin)
		if err == nil {
			return
		}
		// A port found free can be taken before the server listens (by
		// another suite's server starting beside this one): pick again.
		taken := strings.Contains(s.Logs(), fmt.Sprintf("failed to listen on 127.0.0.1:%d", s.Port))
		if !pickPort || !taken || attempt == 3 {
			t.Fatalf("%v\n%s", err, s.Logs())
		}
		t.Logf("the secure port %d was taken before the server listened; picking another", s.Port)
		s.logs.Close()
	}
}

// start runs the server once and waits for its kubeconfig announcement.
func (s *Standalone) start(bin string) error {
	var err error
	s.logs, err = os.CreateTemp(s.DataDir, "apiserver-*.log")
	if err != nil {
		return err
	}
	args := append([]string{"--standalone", "--data-dir", s.DataDir, "--secure-port", fmt.Sprint(s.Port)}, s.Args...)
	s.cmd = exec.Command(bin, args...)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	s.cmd.Stderr = s.logs
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return err
	}
	s.exit = make(chan error, 1)
	announced := make(chan string, 1)
	go func() {
		scanner := bufio.NewScanner(stdout)
		for scanner.Scan() {
			if path, ok := strings.CutPrefix(scanner.Text(), "export KUBECONFIG="); ok {
				announced <- path
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // drained so the server never blocks on its stdout
	}()
	go func() { s.exit <- s.cmd.Wait() }()

	select {
	case s.Kubeconfig = <-announced:
		return nil
	case err := <-s.exit:
		s.exit <- err // kept for Stop, which waits for it (a test's cleanup)
		return fmt.Errorf("arl-apiserver exited before serving: %w", err)
	case <-time.After(90 * time.Second):
		return fmt.Errorf("arl-apiserver did not announce its kubeconfig within 90s")
	}
}

// Readyz is the server's verbose /readyz answer and whether it is ready.
func (s *Standalone) Readyz() (string, bool) {
	rc, err := rest.UnversionedRESTClientFor(withNegotiatedSerializer(s.RESTConfig()))
	if err != nil {
		s.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, err := rc.Get().AbsPath("/readyz").Param("verbose", "true").DoRaw(ctx)
	return string(body), err == nil
}

func (s *Standalone) waitReady() {
	t := s.t
	client := s.RESTConfig()
	rc, err := rest.UnversionedRESTClientFor(withNegotiatedSerializer(client))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		body, err := rc.Get().AbsPath("/readyz").DoRaw(ctx)
		cancel()
		if err == nil && strings.TrimSpace(string(body)) == "ok" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("arl-apiserver not ready: %v %s\n%s", err, body, s.Logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Kill kills the server with SIGKILL, as a crash would, and waits for it.
func (s *Standalone) Kill() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
	s.logs.Close()
}

// PID is the running server's process id (0 when it is not running).
func (s *Standalone) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop stops the server with SIGTERM (SIGKILL after 20s) and waits for it.
func (s *Standalone) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exit:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exit
	}
	s.cmd = nil
	s.logs.Close()
}

// Logs returns what the server logged so far.
func (s *Standalone) Logs() string {
	if s.logs == nil {
		return ""
	}
	b, _ := os.ReadFile(s.logs.Name())
	return string(b)
}

// RESTConfig is the admin's client config.
func (s *Standalone) RESTConfig() *rest.Config {
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		s.t.Fatal(err)
	}
	return cfg
}

// Clientset is the generated ARL clientset, as the admin.
func (s *Standalone) Clientset() clientset.Interface {
	cs, err := clientset.NewForConfig(s.RESTConfig())
	if err != nil {
		s.t.Fatal(err)
	}
	return cs
}

// Kubectl returns a kubectl bound to this server as the admin.
func (s *Standalone) Kubectl() *Kubectl {
	return NewKubectl(s.t, s.Kubeconfig)
}

// PKIDir holds the standalone CA and the admin's certificate.
func (s *Standalone) PKIDir() string { return filepath.Join(s.DataDir, "pki") }

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

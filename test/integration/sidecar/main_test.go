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

// Package sidecar tests the arl-sidecar binary as it runs in a pod: built
// once, started as real processes (the agent also as PID 1 of its own PID
// namespace), called over its real unix socket and over TCP+mTLS through
// serve.
package sidecar

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/arl-infra/arl/pkg/sidecar/client"
	"github.com/arl-infra/arl/pkg/sidecar/pki"
	"github.com/arl-infra/arl/pkg/sidecar/procutil"
)

// binary is the arl-sidecar built for this run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "arl-sidecar-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "arl-sidecar")
	gobin, err := goTool()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command(gobin, "build", "-trimpath", "-o", binary, "github.com/arl-infra/arl/cmd/arl-sidecar")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building arl-sidecar: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goTool finds the go command: $GOROOT's, else the one on PATH.
func goTool() (string, error) {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p, nil
		}
	}
	return exec.LookPath("go")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// syncBuffer collects a process's logs for failure reports.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a started arl-sidecar (or a wrapper of it, such as unshare).
type proc struct {
	t    testing.TB
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{}
	err  error
	// killToStop: the process ignores SIGTERM (unshare --fork does while
	// it waits); SIGKILL it (--kill-child then ends the namespace).
	killToStop bool
}

func startProc(t testing.TB, env []string, argv ...string) *proc {
	t.Helper()
	p := &proc{t: t, logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = p.logs
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("logs of %s:\n%s", strings.Join(argv, " "), p.logs.String())
		}
	})
	return p
}

// stop asks the process to end (SIGTERM: the agent then ends what it
// started) and kills it if it does not.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	if p.killToStop {
		_ = p.cmd.Process.Kill()
		<-p.done
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exitCode waits (boundedly) for the process to end.
func (p *proc) exitCode() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatalf("%v did not exit", p.cmd.Args)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

// tempDir is a short directory: unix socket paths are limited to 108 bytes.
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "arl-it-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// agentProc is a running agent and a client on its socket.
type agentProc struct {
	*proc
	*client.Client
	socket    string
	workspace string
}

// startAgent runs "[wrap...] arl-sidecar agent --socket ... [args...]" and
// waits until it answers.
func startAgent(t testing.TB, env, wrap, args []string) *agentProc {
	t.Helper()
	dir := tempDir(t)
	a := &agentProc{socket: filepath.Join(dir, "run/agent.sock"), workspace: filepath.Join(dir, "workspace")}
	argv := append(append([]string{}, wrap...), binary, "agent", "--socket", a.socket, "--workspace", a.workspace)
	a.proc = startProc(t, env, append(argv, args...)...)
	a.proc.killToStop = len(wrap) > 0
	c, err := client.Dial(context.Background(), client.Target{Address: a.socket})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	a.Client = c
	waitHealthy(t, c, a.proc)
	return a
}

func waitHealthy(t testing.TB, c *client.Client, p *proc) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Health(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%v exited: %v\n%s", p.cmd.Args, p.err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became healthy: %v", c.Target().Address, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func callCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond (boundedly) and fails with what() when it never holds.
func eventually(t testing.TB, cond func() bool, what func() string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 20*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatal(what())
	}
}

// descendants lists the processes below pid, as the host sees them.
func descendants(t testing.TB, pid int) []procutil.Proc {
	t.Helper()
	procs, err := procutil.ListProcs()
	if err != nil {
		t.Fatal(err)
	}
	return procutil.Descendants(procs, pid)
}

// mtls is a CA, serve's key pair files, and a client configuration.
type mtls struct {
	ca                        *pki.CA
	certFile, keyFile, caFile string
}

const serverName = "arl-sidecar.arl.infra.io"

func newMTLS(t testing.TB) *mtls {
	t.Helper()
	dir := tempDir(t)
	ca, err := pki.NewCA("arl-it-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.Issue("arl-sidecar", time.Hour, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, serverName)
	if err != nil {
		t.Fatal(err)
	}
	m := &mtls{ca: ca, certFile: filepath.Join(dir, "tls.crt"), keyFile: filepath.Join(dir, "tls.key"), caFile: filepath.Join(dir, "ca.crt")}
	for f, b := range map[string][]byte{m.certFile: kp.CertPEM, m.keyFile: kp.KeyPEM, m.caFile: ca.CertPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

func (m *mtls) client(t testing.TB, ca *pki.CA, addr string) *client.Client {
	t.Helper()
	kp, err := ca.Issue("arl-apiserver", time.Hour, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pki.ClientTLS(kp, m.ca.CertPEM, serverName)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(context.Background(), client.Target{Address: addr, TLS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	return addr
}

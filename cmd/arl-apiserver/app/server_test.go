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

package app

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/arl-infra/arl/cmd/arl-apiserver/app/options"
)

// TestCertDirFlagIsTheCertificatesOne: --cert-dir is defined by both the
// certificates section and the generic serving options; the command must
// give it to the certificates section on every start. Sections used to be
// added in map order, so about one start in two ignored --cert-dir under
// --manage-certificates. Many commands are built to catch a random order.
func TestCertDirFlagIsTheCertificatesOne(t *testing.T) {
	for range 32 {
		cmd := NewCommand(context.Background(), io.Discard)
		if err := cmd.ParseFlags([]string{"--cert-dir=/run/certs"}); err != nil {
			t.Fatal(err)
		}
		f := cmd.Flags().Lookup("cert-dir")
		if !strings.Contains(f.Usage, "--manage-certificates") {
			t.Fatalf("--cert-dir went to the generic serving options: %q", f.Usage)
		}
	}
	var help bytes.Buffer
	cmd := NewCommand(context.Background(), io.Discard)
	cmd.SetOut(&help)
	if err := cmd.Help(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(help.String(), "--cert-dir "); n != 1 {
		t.Errorf("--help shows --cert-dir %d times, want once:\n%s", n, help.String())
	}
}

// TestEmbeddedEtcdMovesOffATakenPort: the standalone server's etcd port is
// found free when the flags are completed and listened on later; a process
// that takes it in between (servers starting side by side) must not stop
// the server: etcd moves to another port and the storage follows.
func TestEmbeddedEtcdMovesOffATakenPort(t *testing.T) {
	o := options.NewOptions(io.Discard)
	o.Standalone.Enabled = true
	o.Standalone.DataDir = t.TempDir()
	if err := o.Complete(false); err != nil {
		t.Fatal(err)
	}
	chosen, err := url.Parse(o.EmbeddedEtcdURL())
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", chosen.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	etcd, err := startEmbeddedEtcd(context.Background(), o)
	if err != nil {
		t.Fatalf("etcd did not start on another port: %v", err)
	}
	defer etcd.Close()
	if o.EmbeddedEtcdURL() == chosen.String() || etcd.ClientURL != o.EmbeddedEtcdURL() {
		t.Errorf("etcd serves %s, options say %s, the taken port was %s", etcd.ClientURL, o.EmbeddedEtcdURL(), chosen)
	}
	if servers := o.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList; len(servers) != 1 || servers[0] != etcd.ClientURL {
		t.Errorf("the storage dials %v, etcd serves %s", servers, etcd.ClientURL)
	}
}

// TestSecurePortIsNotTakenByEmbeddedEtcd: the embedded etcd's port is
// picked free before the server listens; when the pick lands on the
// secure port itself (it did in CI, with --secure-port found free the
// same way), the server must still serve on its secure port and etcd
// move, not fail with "address already in use".
func TestSecurePortIsNotTakenByEmbeddedEtcd(t *testing.T) {
	announced := newAnnouncement()
	o := options.NewOptions(announced)
	o.Standalone.Enabled = true
	o.Standalone.DataDir = t.TempDir()
	// The local runtime wants a sidecar binary; the test makes no pool, so
	// none runs.
	o.Pool.SidecarBinary = filepath.Join(t.TempDir(), "arl-sidecar")
	if err := os.WriteFile(o.Pool.SidecarBinary, []byte("#!/bin/false\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := o.Complete(false); err != nil {
		t.Fatal(err)
	}
	picked, err := url.Parse(o.EmbeddedEtcdURL())
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(picked.Port())
	if err != nil {
		t.Fatal(err)
	}
	o.RecommendedOptions.SecureServing.BindPort = port

	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- Run(ctx, o) }()
	select {
	case <-announced.serving:
	case err := <-ran:
		t.Fatalf("the server stopped before serving: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("the server did not announce itself within 2 minutes")
	}
	if want := net.JoinHostPort("127.0.0.1", picked.Port()); !strings.Contains(announced.String(), "https://"+want) {
		t.Errorf("the server does not serve on its secure port %s: %q", want, announced.String())
	}
	if o.EmbeddedEtcdURL() == picked.String() {
		t.Errorf("etcd still serves on the secure port: %s", o.EmbeddedEtcdURL())
	}
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("the server stopped with %v", err)
	}
}

// announcement is the server's stdout; serving closes when it announces
// its kubeconfig.
type announcement struct {
	mu      sync.Mutex
	out     bytes.Buffer
	serving chan struct{}
	once    sync.Once
}

func newAnnouncement() *announcement { return &announcement{serving: make(chan struct{})} }

func (a *announcement) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.out.Write(p)
	if strings.Contains(a.out.String(), "export KUBECONFIG=") {
		a.once.Do(func() { close(a.serving) })
	}
	return len(p), nil
}

func (a *announcement) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out.String()
}

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

package standalone

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// TestWriteKubeconfig: the generated kubeconfig reaches a server serving
// the PKI's certificate, trusting it by the PKI's CA alone, as the admin
// (the server sees the admin's certificate), in namespace default; its
// keys are readable by the owner only.
func TestWriteKubeconfig(t *testing.T) {
	p := NewPKI(t.TempDir())
	if err := p.Ensure([]string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	serving, err := tls.LoadX509KeyPair(p.ServingCertFile, p.ServingKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(p.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AppendCertsFromPEM(caPEM)
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.TLS.PeerCertificates[0].Subject.CommonName)
	}))
	server.TLS = &tls.Config{Certificates: []tls.Certificate{serving}, ClientCAs: clients, ClientAuth: tls.RequireAndVerifyClientCert}
	server.StartTLS()
	defer server.Close()

	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := p.WriteKubeconfig(path, server.URL); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm()&0o077 != 0 {
		t.Errorf("kubeconfig mode %v (%v), want no access for group or others", info.Mode(), err)
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, &clientcmd.ConfigOverrides{})
	if ns, _, err := loader.Namespace(); err != nil || ns != "default" {
		t.Errorf("namespace %q (%v), want default", ns, err)
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(cfg.Host + "/version")
	if err != nil {
		t.Fatalf("the kubeconfig does not reach the server: %v", err)
	}
	defer resp.Body.Close()
	who, _ := io.ReadAll(resp.Body)
	if string(who) != AdminUser {
		t.Errorf("the server saw %q, want %s", who, AdminUser)
	}
}

// TestWriteKubeconfigWithoutPKI: a kubeconfig cannot be written before
// the certificates it embeds exist, and none is left half-written.
func TestWriteKubeconfigWithoutPKI(t *testing.T) {
	p := NewPKI(t.TempDir())
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := p.WriteKubeconfig(path, "https://127.0.0.1:8443"); !os.IsNotExist(err) {
		t.Errorf("got %v, want the missing CA file's error", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a kubeconfig was written: %v", err)
	}
}

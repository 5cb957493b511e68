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
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/arl-infra/arl/pkg/sidecar/pki"
)

// TestApplyAuth: a standalone server knows users only by client
// certificates of its own CA, lets the admin group do everything and
// anyone only probe health; a certificate of another CA is refused, not
// taken for anonymous.
func TestApplyAuth(t *testing.T) {
	p := NewPKI(t.TempDir())
	if err := p.Ensure([]string{"localhost"}); err != nil {
		t.Fatal(err)
	}
	config := &genericapiserver.Config{SecureServing: &genericapiserver.SecureServingInfo{}}
	if err := p.ApplyAuth(config); err != nil {
		t.Fatal(err)
	}
	if config.SecureServing.ClientCA == nil {
		t.Fatal("the server does not ask clients for certificates of its CA")
	}

	ownCA := loadCA(t, p)
	foreignCA, err := pki.NewCA("elsewhere", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		// cert is the client's certificate, nil for none.
		cert *x509.Certificate
		// wantUser is who the server takes the client for; "" when refused.
		wantUser string
		// allowed are the paths the client may use; the others it may not.
		allowed, denied []string
	}{{
		name:     "admin",
		cert:     clientCert(t, ownCA, pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}}),
		wantUser: AdminUser,
		allowed:  []string{"/apis/arl.infra.io/v1alpha1/namespaces/default/sandboxes", "/healthz", "/metrics"},
	}, {
		name:     "a user of our CA outside the admin group",
		cert:     clientCert(t, ownCA, pkix.Name{CommonName: "alice", Organization: []string{"developers"}}),
		wantUser: "alice",
		allowed:  []string{"/readyz", "/livez/etcd"},
		denied:   []string{"/apis/arl.infra.io/v1alpha1/namespaces/default/sandboxes", "/metrics"},
	}, {
		name:     "anonymous",
		wantUser: user.Anonymous,
		allowed:  []string{"/healthz", "/healthz/etcd", "/livez", "/readyz"},
		denied:   []string{"/apis", "/openapi/v2", "/healthzfake"},
	}, {
		name: "admin of another CA",
		cert: clientCert(t, foreignCA, pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}}),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "https://localhost/apis", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.TLS = &tls.ConnectionState{}
			if c.cert != nil {
				req.TLS.PeerCertificates = []*x509.Certificate{c.cert}
			}
			resp, ok, err := config.Authentication.Authenticator.AuthenticateRequest(req)
			if c.wantUser == "" {
				if err == nil && ok {
					t.Fatalf("taken for %v, want refused", resp.User)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("not authenticated: %v", err)
			}
			if got := resp.User.GetName(); got != c.wantUser {
				t.Fatalf("taken for %q, want %q", got, c.wantUser)
			}
			for _, path := range append(slices.Clone(c.allowed), c.denied...) {
				decision, _, err := config.Authorization.Authorizer.Authorize(context.Background(),
					authorizer.AttributesRecord{User: resp.User, Verb: "get", Path: path})
				want := slices.Contains(c.allowed, path)
				if got := decision == authorizer.DecisionAllow; got != want || err != nil {
					t.Errorf("GET %s: allowed %v (%v), want %v", path, got, err, want)
				}
			}
		})
	}
}

func loadCA(t *testing.T, p *PKI) *pki.CA {
	t.Helper()
	certPEM, err := os.ReadFile(p.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(p.CAKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := pki.LoadCA(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func clientCert(t *testing.T, ca *pki.CA, subject pkix.Name) *x509.Certificate {
	t.Helper()
	kp, err := ca.IssueSubject(subject, time.Hour, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

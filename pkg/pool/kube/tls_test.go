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

package kube

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/pkg/sidecar/pki"
)

func testCredentials(t *testing.T) *credentials {
	t.Helper()
	ca, err := pki.NewCA("arl-sidecar-ca", caValidity)
	if err != nil {
		t.Fatal(err)
	}
	c := &credentials{ca: ca, identity: "replica-1"}
	if _, err := c.issueClientCert(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSidecarSecretDue(t *testing.T) {
	c := testCredentials(t)
	other := testCredentials(t)
	secret, err := c.sidecarSecret("ns")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.sidecarSecret("ns")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, tc := range []struct {
		name   string
		secret *corev1.Secret
		now    time.Time
		due    bool
	}{
		{"fresh", secret, now, false},
		{"at 60% of its life", secret, now.Add(certValidity * 6 / 10), false},
		{"past two thirds of its life", secret, now.Add(certValidity * 7 / 10), true},
		{"another installation's CA", foreign, now, true},
		{"empty", &corev1.Secret{Data: map[string][]byte{"ca.crt": c.ca.CertPEM}}, now, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.sidecarSecretDue(tc.secret, tc.now); (got != "") != tc.due {
				t.Fatalf("sidecarSecretDue = %q, want due=%v", got, tc.due)
			}
		})
	}
}

func TestClientCertRenewsInPlace(t *testing.T) {
	c := testCredentials(t)
	first, _ := c.currentClientCert(nil)
	if err := c.renewClientCert(time.Now()); err != nil {
		t.Fatal(err)
	}
	if again, _ := c.currentClientCert(nil); again != first {
		t.Fatal("a fresh client certificate was replaced")
	}
	if err := c.renewClientCert(time.Now().Add(certValidity * 7 / 10)); err != nil {
		t.Fatal(err)
	}
	renewed, _ := c.currentClientCert(nil)
	if renewed == first {
		t.Fatal("a client certificate past two thirds of its life was not renewed")
	}
	// The TLS config hands out the certificate in force at each handshake.
	clientTLS := &tls.Config{GetClientCertificate: c.currentClientCert}
	got, _ := clientTLS.GetClientCertificate(nil)
	leaf, err := x509.ParseCertificate(got.Certificate[0])
	if err != nil || leaf.Subject.CommonName != "replica-1" || got != renewed {
		t.Fatalf("handshake certificate %v (%v), want the renewed one", leaf.Subject, err)
	}
}

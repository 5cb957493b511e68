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
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"net"
	"os"
	"slices"
	"testing"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

func TestPKIEnsure(t *testing.T) {
	p := NewPKI(t.TempDir())
	if err := p.Ensure([]string{"localhost", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	ca := readCert(t, p.CACertFile)
	if !ca.IsCA {
		t.Fatalf("%s is not a CA", p.CACertFile)
	}
	roots.AddCert(ca)

	serving := readCert(t, p.ServingCertFile)
	if _, err := serving.Verify(x509.VerifyOptions{Roots: roots, DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("serving certificate: %v", err)
	}
	if !slices.ContainsFunc(serving.IPAddresses, func(ip net.IP) bool { return ip.Equal(net.ParseIP("127.0.0.1")) }) {
		t.Errorf("serving certificate IPs %v lack 127.0.0.1", serving.IPAddresses)
	}

	admin := readCert(t, p.AdminCertFile)
	if _, err := admin.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate: %v", err)
	}
	if admin.Subject.CommonName != AdminUser || !slices.Equal(admin.Subject.Organization, []string{AdminGroup}) {
		t.Errorf("admin subject %v, want CN %s O %s", admin.Subject, AdminUser, AdminGroup)
	}

	// A restart keeps what exists, so issued kubeconfigs keep working.
	before := readFiles(t, p)
	if err := p.Ensure([]string{"localhost", "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if after := readFiles(t, p); !slices.Equal(before, after) {
		t.Error("a second Ensure rewrote existing certificates")
	}

	// A missing admin pair is issued again by the kept CA.
	if err := os.Remove(p.AdminKeyFile); err != nil {
		t.Fatal(err)
	}
	if err := p.Ensure(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := readCert(t, p.AdminCertFile).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("reissued admin certificate: %v", err)
	}
}

func readCert(t *testing.T, file string) *x509.Certificate {
	t.Helper()
	certs, err := certutil.CertsFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func readFiles(t *testing.T, p *PKI) []string {
	t.Helper()
	var contents []string
	for _, f := range []string{p.CACertFile, p.CAKeyFile, p.ServingCertFile, p.ServingKeyFile, p.AdminCertFile, p.AdminKeyFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		contents = append(contents, string(data))
	}
	return contents
}

// A CA written by earlier releases (client-go's cert and key helpers) is
// loaded and signs what is missing.
func TestPKIEnsureKeepsClientGoCA(t *testing.T) {
	p := NewPKI(t.TempDir())
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: "arl-standalone-ca"}, key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, err := certutil.EncodeCertificates(ca)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyutil.WriteKey(p.CAKeyFile, keyPEM); err != nil {
		t.Fatal(err)
	}
	if err := certutil.WriteCert(p.CACertFile, certPEM); err != nil {
		t.Fatal(err)
	}
	if err := p.Ensure([]string{"localhost"}); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if _, err := readCert(t, p.AdminCertFile).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate: %v", err)
	}
}

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
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// AdminUser and AdminGroup are the identity in the generated kubeconfig;
// the standalone authorizer admits the group.
const (
	AdminUser  = "arl-admin"
	AdminGroup = "system:masters"
)

// PKI is the certificate material of a standalone server, kept on disk so
// that a restart keeps working kubeconfigs.
type PKI struct {
	Dir string
	// CACert signs the serving certificate and the admin's client certificate.
	CACertFile, CAKeyFile           string
	ServingCertFile, ServingKeyFile string
	AdminCertFile, AdminKeyFile     string
}

// NewPKI names the files of a PKI under dir.
func NewPKI(dir string) *PKI {
	return &PKI{
		Dir:             dir,
		CACertFile:      filepath.Join(dir, "ca.crt"),
		CAKeyFile:       filepath.Join(dir, "ca.key"),
		ServingCertFile: filepath.Join(dir, "serving.crt"),
		ServingKeyFile:  filepath.Join(dir, "serving.key"),
		AdminCertFile:   filepath.Join(dir, "admin.crt"),
		AdminKeyFile:    filepath.Join(dir, "admin.key"),
	}
}

// Ensure creates whatever certificate is missing; existing ones are kept.
// servingHosts are the DNS names and IPs the serving certificate covers.
func (p *PKI) Ensure(servingHosts []string) error {
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return err
	}
	caCert, caKey, err := p.ensureCA()
	if err != nil {
		return err
	}
	var dnsNames []string
	var ips []net.IP
	for _, h := range servingHosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else {
			dnsNames = append(dnsNames, h)
		}
	}
	serving := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "arl-apiserver"},
		DNSNames:    dnsNames,
		IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if err := ensureSigned(p.ServingCertFile, p.ServingKeyFile, serving, caCert, caKey); err != nil {
		return err
	}
	admin := &x509.Certificate{
		Subject:     pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ensureSigned(p.AdminCertFile, p.AdminKeyFile, admin, caCert, caKey)
}

func (p *PKI) ensureCA() (*x509.Certificate, crypto.Signer, error) {
	if exists(p.CACertFile) && exists(p.CAKeyFile) {
		return loadPair(p.CACertFile, p.CAKeyFile)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	cert, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: "arl-standalone-ca"}, key)
	if err != nil {
		return nil, nil, err
	}
	if err := writePair(p.CACertFile, p.CAKeyFile, cert.Raw, key); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// ensureSigned writes a key and a certificate from template signed by the
// CA, unless both files exist already.
func ensureSigned(certFile, keyFile string, template, caCert *x509.Certificate, caKey crypto.Signer) error {
	if exists(certFile) && exists(keyFile) {
		return nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return err
	}
	template.SerialNumber = serial
	template.NotBefore = time.Now().Add(-time.Hour)
	template.NotAfter = time.Now().Add(10 * 365 * 24 * time.Hour)
	template.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, template, caCert, key.Public(), caKey)
	if err != nil {
		return fmt.Errorf("signing %s: %w", certFile, err)
	}
	return writePair(certFile, keyFile, der, key)
}

func writePair(certFile, keyFile string, der []byte, key *ecdsa.PrivateKey) error {
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return err
	}
	if err := keyutil.WriteKey(keyFile, keyPEM); err != nil {
		return err
	}
	certPEM, err := certutil.EncodeCertificates(&x509.Certificate{Raw: der})
	if err != nil {
		return err
	}
	return certutil.WriteCert(certFile, certPEM)
}

func loadPair(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	certs, err := certutil.CertsFromFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	key, err := keyutil.PrivateKeyFromFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("%s does not hold a signing key", keyFile)
	}
	return certs[0], signer, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

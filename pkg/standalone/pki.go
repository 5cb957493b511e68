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
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"path/filepath"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"

	"github.com/arl-infra/arl/pkg/sidecar/pki"
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

// validity is how long the standalone CA and certificates last.
const validity = 10 * 365 * 24 * time.Hour

// Ensure creates whatever certificate is missing; existing ones are kept.
// servingHosts are the DNS names and IPs the serving certificate covers.
func (p *PKI) Ensure(servingHosts []string) error {
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return err
	}
	ca, err := p.ensureCA()
	if err != nil {
		return err
	}
	if err := ensureSigned(p.ServingCertFile, p.ServingKeyFile, ca, pkix.Name{CommonName: "arl-apiserver"},
		x509.ExtKeyUsageServerAuth, servingHosts...); err != nil {
		return err
	}
	return ensureSigned(p.AdminCertFile, p.AdminKeyFile, ca, pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}},
		x509.ExtKeyUsageClientAuth)
}

func (p *PKI) ensureCA() (*pki.CA, error) {
	if exists(p.CACertFile) && exists(p.CAKeyFile) {
		certPEM, err := os.ReadFile(p.CACertFile)
		if err != nil {
			return nil, err
		}
		keyPEM, err := os.ReadFile(p.CAKeyFile)
		if err != nil {
			return nil, err
		}
		return pki.LoadCA(certPEM, keyPEM)
	}
	ca, err := pki.NewCA("arl-standalone-ca", validity)
	if err != nil {
		return nil, err
	}
	keyPEM, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}
	if err := writePair(p.CACertFile, p.CAKeyFile, &pki.KeyPair{CertPEM: ca.CertPEM, KeyPEM: keyPEM}); err != nil {
		return nil, err
	}
	return ca, nil
}

// ensureSigned writes a key and a certificate for subject signed by the CA,
// unless both files exist already.
func ensureSigned(certFile, keyFile string, ca *pki.CA, subject pkix.Name, usage x509.ExtKeyUsage, sans ...string) error {
	if exists(certFile) && exists(keyFile) {
		return nil
	}
	kp, err := ca.IssueSubject(subject, validity, []x509.ExtKeyUsage{usage}, sans...)
	if err != nil {
		return fmt.Errorf("signing %s: %w", certFile, err)
	}
	return writePair(certFile, keyFile, kp)
}

func writePair(certFile, keyFile string, kp *pki.KeyPair) error {
	if err := keyutil.WriteKey(keyFile, kp.KeyPEM); err != nil {
		return err
	}
	return certutil.WriteCert(certFile, kp.CertPEM)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

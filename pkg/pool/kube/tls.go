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
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/arl-infra/arl/pkg/sidecar/pki"
)

const (
	// CASecret (in the server's namespace) keeps the CA every replica signs
	// sidecar and client certificates with.
	CASecret = "arl-sidecar-ca"
	// SidecarServerName is the name every sidecar certificate carries; pod
	// IPs change, so clients verify this name instead.
	SidecarServerName = "arl-sidecar.arl.infra.io"

	caValidity   = 10 * 365 * 24 * time.Hour
	certValidity = 365 * 24 * time.Hour
)

// credentials are the mTLS material of the API server's calls to sidecars.
type credentials struct {
	ca        *pki.CA
	identity  string
	clientTLS *tls.Config

	mu         sync.Mutex
	clientCert *tls.Certificate
}

// loadCredentials reads the installation's CA from its Secret, creating it
// the first time (the first replica to create it wins), and issues this
// replica's client certificate.
func loadCredentials(ctx context.Context, client kubernetes.Interface, namespace, identity string) (*credentials, error) {
	secrets := client.CoreV1().Secrets(namespace)
	secret, err := secrets.Get(ctx, CASecret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		var newCA *pki.CA
		var keyPEM []byte
		if newCA, err = pki.NewCA("arl-sidecar-ca", caValidity); err != nil {
			return nil, err
		}
		if keyPEM, err = newCA.KeyPEM(); err != nil {
			return nil, err
		}
		secret, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: CASecret, Namespace: namespace},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: newCA.CertPEM, corev1.TLSPrivateKeyKey: keyPEM},
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			secret, err = secrets.Get(ctx, CASecret, metav1.GetOptions{})
		}
	}
	if err != nil {
		return nil, fmt.Errorf("sidecar CA Secret %s/%s: %w", namespace, CASecret, err)
	}
	ca, err := pki.LoadCA(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, fmt.Errorf("sidecar CA Secret %s/%s: %w", namespace, CASecret, err)
	}
	c := &credentials{ca: ca, identity: identity}
	clientCert, err := c.issueClientCert()
	if err != nil {
		return nil, err
	}
	clientTLS, err := pki.ClientTLS(clientCert, ca.CertPEM, SidecarServerName)
	if err != nil {
		return nil, err
	}
	// The certificate in force is asked for at each handshake, so a
	// renewed one serves the next connection.
	clientTLS.Certificates = nil
	clientTLS.GetClientCertificate = c.currentClientCert
	c.clientTLS = clientTLS
	return c, nil
}

// issueClientCert issues this replica's client certificate and makes it
// the one in force.
func (c *credentials) issueClientCert() (*pki.KeyPair, error) {
	kp, err := c.ca.Issue(c.identity, certValidity, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.clientCert = &cert
	c.mu.Unlock()
	return kp, nil
}

func (c *credentials) currentClientCert(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientCert, nil
}

// dueForRenewal: past two thirds of its life (what package certs does too).
func dueForRenewal(cert *x509.Certificate, now time.Time) bool {
	return !now.Before(cert.NotBefore.Add(cert.NotAfter.Sub(cert.NotBefore) * 2 / 3))
}

// renewClientCert replaces this replica's client certificate when it is due.
func (c *credentials) renewClientCert(now time.Time) error {
	c.mu.Lock()
	leaf, err := x509.ParseCertificate(c.clientCert.Certificate[0])
	c.mu.Unlock()
	if err != nil || !dueForRenewal(leaf, now) {
		return err
	}
	_, err = c.issueClientCert()
	return err
}

// sidecarSecretDue says why a namespace's sidecar Secret must be issued
// again ("" when it serves): its certificate is due, or its CA is not
// the installation's.
func (c *credentials) sidecarSecretDue(secret *corev1.Secret, now time.Time) string {
	if !bytes.Equal(secret.Data["ca.crt"], c.ca.CertPEM) {
		return "its CA is not the installation's"
	}
	block, _ := pem.Decode(secret.Data[corev1.TLSCertKey])
	if block == nil {
		return "no certificate"
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err.Error()
	}
	if dueForRenewal(cert, now) {
		return "past two thirds of its life (expires " + cert.NotAfter.UTC().Format(time.RFC3339) + ")"
	}
	return ""
}

// sidecarSecret is the per-namespace Secret the sidecars mount: a serving
// certificate for SidecarServerName and the CA that signs callers.
func (c *credentials) sidecarSecret(namespace string) (*corev1.Secret, error) {
	serving, err := c.ca.Issue(SidecarServerName, certValidity, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, SidecarServerName)
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: TLSSecret, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "arl"}},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       serving.CertPEM,
			corev1.TLSPrivateKeyKey: serving.KeyPEM,
			"ca.crt":                c.ca.CertPEM,
		},
	}, nil
}

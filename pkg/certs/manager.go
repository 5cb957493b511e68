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

package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/arl-infra/arl/pkg/sidecar/pki"
)

// Secret names (in the server's namespace).
const (
	SecretAPIServerCA     = "arl-apiserver-ca"
	SecretServing         = "arl-apiserver-serving-cert"
	SecretEtcdCA          = "arl-etcd-ca"
	SecretEtcdPeer        = "arl-etcd-peer"
	SecretEtcdClient      = "arl-etcd-client"
	SecretEtcdMaintenance = "arl-etcd-maintenance"

	// EtcdPeerCN is the peer certificate's name (etcd --peer-cert-allowed-cn).
	EtcdPeerCN = "arl-etcd-peer"

	// Files the manager writes in Options.Dir.
	FileServingCert    = "serving.crt"
	FileServingKey     = "serving.key"
	FileEtcdClientCert = "etcd-client.crt"
	FileEtcdClientKey  = "etcd-client.key"
	FileEtcdCA         = "etcd-ca.crt"

	// Defaults.
	DefaultValidity   = 365 * 24 * time.Hour
	DefaultCAValidity = 10 * 365 * 24 * time.Hour
)

var apiServicesResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// Options configure a Manager.
type Options struct {
	Client    kubernetes.Interface
	Dynamic   dynamic.Interface
	Namespace string
	// Dir receives this replica's serving and etcd client files.
	Dir string
	// APIService gets the serving CA as its caBundle ("" for none).
	APIService string
	// Validity of leaf certificates (renewed past two thirds of it) and CAs.
	Validity   time.Duration
	CAValidity time.Duration
	Clock      clock.PassiveClock
}

// Manager ensures the certificates exist and are fresh.
type Manager struct{ opts Options }

// New returns a manager.
func New(opts Options) *Manager {
	if opts.Validity <= 0 {
		opts.Validity = DefaultValidity
	}
	if opts.CAValidity <= 0 {
		opts.CAValidity = DefaultCAValidity
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Manager{opts: opts}
}

// ServingNames are the names arl-apiserver's Service answers to.
func ServingNames(namespace string) []string {
	svc := "arl-apiserver." + namespace + ".svc"
	return []string{svc, svc + ".cluster.local", "arl-apiserver." + namespace, "arl-apiserver"}
}

// EtcdNames are the names etcd members answer to: the client Service and
// each member through the headless peer Service.
func EtcdNames(namespace string) []string {
	var names []string
	for _, svc := range []string{"arl-etcd", "arl-etcd-peer"} {
		names = append(names, svc, svc+"."+namespace, svc+"."+namespace+".svc", svc+"."+namespace+".svc.cluster.local")
	}
	return append(names, "*.arl-etcd-peer."+namespace+".svc", "*.arl-etcd-peer."+namespace+".svc.cluster.local", "localhost", "127.0.0.1")
}

type leafSpec struct {
	secret string
	cn     string
	sans   []string
	usages []x509.ExtKeyUsage
}

// material is a Secret's certificate, key and CA bundle.
type material struct{ cert, key, ca []byte }

// Ensure creates what is missing, renews what is due, writes this
// replica's files and sets the APIService's caBundle.
func (m *Manager) Ensure(ctx context.Context) error {
	ns := m.opts.Namespace
	apiCA, err := m.ensureCA(ctx, SecretAPIServerCA, "arl-apiserver-ca")
	if err != nil {
		return err
	}
	etcdCA, err := m.ensureCA(ctx, SecretEtcdCA, "arl-etcd-ca")
	if err != nil {
		return err
	}
	serving, err := m.ensureLeaf(ctx, apiCA, leafSpec{secret: SecretServing, cn: ServingNames(ns)[0], sans: ServingNames(ns),
		usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return err
	}
	if _, err := m.ensureLeaf(ctx, etcdCA, leafSpec{secret: SecretEtcdPeer, cn: EtcdPeerCN, sans: EtcdNames(ns),
		usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
		return err
	}
	client, err := m.ensureLeaf(ctx, etcdCA, leafSpec{secret: SecretEtcdClient, cn: "arl-apiserver",
		usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return err
	}
	if _, err := m.ensureLeaf(ctx, etcdCA, leafSpec{secret: SecretEtcdMaintenance, cn: "arl-etcd-maintenance",
		usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return err
	}
	if m.opts.Dir != "" {
		for name, data := range map[string][]byte{
			FileServingKey: serving.key, FileServingCert: serving.cert,
			FileEtcdClientKey: client.key, FileEtcdClientCert: client.cert, FileEtcdCA: client.ca,
		} {
			if err := writeIfChanged(filepath.Join(m.opts.Dir, name), data); err != nil {
				return err
			}
		}
	}
	// The caBundle does not hold up the server: Run keeps trying.
	if err := m.ensureCABundle(ctx, apiCA.CertPEM); err != nil {
		klog.FromContext(ctx).Error(err, "Setting the APIService's caBundle failed; retrying")
	}
	return nil
}

// caBundleInterval is how often the APIService's caBundle is checked: an
// apply of manifests that once carried an empty caBundle empties it again.
const caBundleInterval = 10 * time.Second

// Run ensures every interval (the caBundle every caBundleInterval) until
// ctx ends.
func (m *Manager) Run(ctx context.Context, interval time.Duration) {
	logger := klog.FromContext(ctx)
	t := time.NewTicker(interval)
	defer t.Stop()
	bundle := time.NewTicker(caBundleInterval)
	defer bundle.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-bundle.C:
			if ca, err := m.ensureCA(ctx, SecretAPIServerCA, "arl-apiserver-ca"); err == nil {
				err = m.ensureCABundle(ctx, ca.CertPEM)
				if err != nil && ctx.Err() == nil {
					logger.Error(err, "Setting the APIService's caBundle failed; retrying")
				}
			}
			continue
		case <-t.C:
		}
		if err := m.Ensure(ctx); err != nil && ctx.Err() == nil {
			logger.Error(err, "Ensuring the installation's certificates failed; retrying")
		}
	}
}

func (m *Manager) labels() map[string]string {
	return map[string]string{"app.kubernetes.io/part-of": "arl", "app.kubernetes.io/managed-by": "arl-apiserver"}
}

// ensureCA loads a CA from its Secret, creating it the first time.
func (m *Manager) ensureCA(ctx context.Context, name, cn string) (*pki.CA, error) {
	secrets := m.opts.Client.CoreV1().Secrets(m.opts.Namespace)
	secret, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		ca, cerr := pki.NewCA(cn, m.opts.CAValidity)
		if cerr != nil {
			return nil, cerr
		}
		key, kerr := ca.KeyPEM()
		if kerr != nil {
			return nil, kerr
		}
		secret, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: m.opts.Namespace, Labels: m.labels()},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{corev1.TLSCertKey: ca.CertPEM, corev1.TLSPrivateKeyKey: key},
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			secret, err = secrets.Get(ctx, name, metav1.GetOptions{})
		} else if err == nil {
			klog.FromContext(ctx).Info("Created a CA", "secret", klog.KRef(m.opts.Namespace, name), "notAfter", ca.Cert.NotAfter)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("CA Secret %s/%s: %w", m.opts.Namespace, name, err)
	}
	ca, err := pki.LoadCA(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, fmt.Errorf("CA Secret %s/%s: %w", m.opts.Namespace, name, err)
	}
	if left := ca.Cert.NotAfter.Sub(m.opts.Clock.Now()); left < m.opts.Validity {
		klog.FromContext(ctx).Error(nil, "A CA expires within a leaf certificate's validity: replace it (docs/operations.md)",
			"secret", klog.KRef(m.opts.Namespace, name), "notAfter", ca.Cert.NotAfter)
	}
	return ca, nil
}

// ensureLeaf returns a leaf's material from its Secret, issuing (and
// storing) a new certificate when it is missing or due.
func (m *Manager) ensureLeaf(ctx context.Context, ca *pki.CA, spec leafSpec) (*material, error) {
	secrets := m.opts.Client.CoreV1().Secrets(m.opts.Namespace)
	for attempt := 0; ; attempt++ {
		secret, err := secrets.Get(ctx, spec.secret, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("secret %s/%s: %w", m.opts.Namespace, spec.secret, err)
		}
		found := err == nil
		var have *material
		if found {
			have = &material{cert: secret.Data[corev1.TLSCertKey], key: secret.Data[corev1.TLSPrivateKeyKey], ca: secret.Data["ca.crt"]}
			why := renewalReason(have, ca, spec, m.opts.Clock.Now())
			if why == "" {
				return have, nil
			}
			klog.FromContext(ctx).Info("Issuing a certificate", "secret", klog.KRef(m.opts.Namespace, spec.secret), "why", why)
		}
		kp, err := ca.Issue(spec.cn, m.opts.Validity, spec.usages, spec.sans...)
		if err != nil {
			return nil, err
		}
		next := &material{cert: kp.CertPEM, key: kp.KeyPEM, ca: ca.CertPEM}
		data := map[string][]byte{corev1.TLSCertKey: next.cert, corev1.TLSPrivateKeyKey: next.key, "ca.crt": next.ca}
		if found {
			secret.Data = data
			_, err = secrets.Update(ctx, secret, metav1.UpdateOptions{})
		} else {
			_, err = secrets.Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: spec.secret, Namespace: m.opts.Namespace, Labels: m.labels()},
				Type:       corev1.SecretTypeTLS, Data: data,
			}, metav1.CreateOptions{})
		}
		if err == nil {
			return next, nil
		}
		// Another replica wrote it first: use theirs.
		if (apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) && attempt < 3 {
			continue
		}
		return nil, fmt.Errorf("secret %s/%s: %w", m.opts.Namespace, spec.secret, err)
	}
}

// renewalReason says why a leaf must be issued again, or "" when it serves.
func renewalReason(have *material, ca *pki.CA, spec leafSpec, now time.Time) string {
	if _, err := tls.X509KeyPair(have.cert, have.key); err != nil {
		return "no valid key pair: " + err.Error()
	}
	cert, err := parseCert(have.cert)
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(have.ca, ca.CertPEM) {
		return "its CA bundle is not the current CA"
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: spec.usages}); err != nil {
		return "not valid under the current CA: " + err.Error()
	}
	if renewAt := cert.NotBefore.Add(cert.NotAfter.Sub(cert.NotBefore) * 2 / 3); !now.Before(renewAt) {
		return fmt.Sprintf("past two thirds of its life (expires %s)", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if cert.Subject.CommonName != spec.cn || !slices.Equal(sansOf(cert), spec.sans) {
		return "its names changed"
	}
	return ""
}

func sansOf(cert *x509.Certificate) []string {
	var out []string
	out = append(out, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

func parseCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// ensureCABundle sets the APIService's caBundle to the serving CA.
func (m *Manager) ensureCABundle(ctx context.Context, caPEM []byte) error {
	if m.opts.APIService == "" || m.opts.Dynamic == nil {
		return nil
	}
	apiServices := m.opts.Dynamic.Resource(apiServicesResource)
	obj, err := apiServices.Get(ctx, m.opts.APIService, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil // not applied yet; the next round sets it
	}
	if err != nil {
		return fmt.Errorf("APIService %s: %w", m.opts.APIService, err)
	}
	want := base64.StdEncoding.EncodeToString(caPEM)
	if have, _, _ := unstructured.NestedString(obj.Object, "spec", "caBundle"); have == want {
		return nil
	}
	patch := fmt.Appendf(nil, `{"spec":{"caBundle":%q}}`, want)
	if _, err := apiServices.Patch(ctx, m.opts.APIService, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("setting APIService %s's caBundle: %w", m.opts.APIService, err)
	}
	klog.FromContext(ctx).Info("Set the APIService's caBundle to the serving CA", "apiService", m.opts.APIService)
	return nil
}

// writeIfChanged replaces a file atomically when its content differs.
func writeIfChanged(path string, data []byte) error {
	if have, err := os.ReadFile(path); err == nil && bytes.Equal(have, data) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

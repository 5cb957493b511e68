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

package serve

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// reloadInterval is how often the certificate files are checked for a
// change (a Secret volume rotates them in place).
const reloadInterval = 10 * time.Second

// Credentials are the serving key pair and the client CA, read from files
// and re-read when the files change.
type Credentials struct {
	certFile, keyFile, caFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	roots   *x509.CertPool
	stamp   string
	checked time.Time
}

// LoadCredentials reads the key pair and the client CA bundle.
func LoadCredentials(certFile, keyFile, caFile string) (*Credentials, error) {
	c := &Credentials{certFile: certFile, keyFile: keyFile, caFile: caFile}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Credentials) load() error {
	stamp, err := c.fileStamp()
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("loading the serving certificate: %w", err)
	}
	pem, err := os.ReadFile(c.caFile)
	if err != nil {
		return fmt.Errorf("reading the client CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return fmt.Errorf("%s holds no PEM certificate", c.caFile)
	}
	c.cert, c.roots, c.stamp = &cert, roots, stamp
	return nil
}

func (c *Credentials) fileStamp() (string, error) {
	stamp := ""
	for _, f := range []string{c.certFile, c.keyFile, c.caFile} {
		st, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		stamp += fmt.Sprintf("%d/%d;", st.ModTime().UnixNano(), st.Size())
	}
	return stamp, nil
}

// refresh re-reads the files when they changed; a broken update keeps the
// previous credentials.
func (c *Credentials) refresh() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) < reloadInterval {
		return
	}
	c.checked = time.Now()
	if stamp, err := c.fileStamp(); err == nil && stamp == c.stamp {
		return
	}
	if err := c.load(); err != nil {
		klog.ErrorS(err, "Reloading the TLS credentials failed; keeping the previous ones")
		return
	}
	klog.InfoS("Reloaded the TLS credentials")
}

func (c *Credentials) certificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.refresh()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert, nil
}

func (c *Credentials) clientCAs() *x509.CertPool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roots
}

// serverTLS asks for (but does not itself verify) a client certificate:
// clientCertCreds verifies it so that a refusal is a gRPC status.
func (c *Credentials) serverTLS() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: c.certificate,
		ClientAuth:     tls.RequestClientCert,
	}
}

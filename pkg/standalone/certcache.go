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
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"net/http"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/utils/clock"
	"k8s.io/utils/lru"
)

const (
	// verifiedCertTTL bounds how long a verified client certificate is
	// trusted without checking it again: a revoked CA (a rotated file)
	// is noticed at once, a certificate's expiry at NotAfter.
	verifiedCertTTL = time.Minute
	// verifiedCertEntries bounds the cache: one entry per distinct
	// client certificate chain.
	verifiedCertEntries = 4096
)

// cachedCertAuthenticator remembers which client certificate chains the
// x509 authenticator accepted. Verifying a chain (an ECDSA signature per
// link) is a fifth of the server's CPU per request for a client making
// many small calls on one connection; the chain and the CA bundle do not
// change between them.
//
// An entry is used only while the CA bundle is the one it was verified
// against (the same *x509.CertPool: the dynamic CA file makes a new pool
// when its content changes), for at most verifiedCertTTL and never past
// the leaf's NotAfter. Only successes are kept.
type cachedCertAuthenticator struct {
	verifyOptions x509request.VerifyOptionFunc
	delegate      authenticator.Request
	clock         clock.PassiveClock
	verified      *lru.Cache
}

type verifiedChain struct {
	response *authenticator.Response
	roots    *x509.CertPool
	until    time.Time
}

func newCachedCertAuthenticator(verifyOptions x509request.VerifyOptionFunc, delegate authenticator.Request, clk clock.PassiveClock) *cachedCertAuthenticator {
	return &cachedCertAuthenticator{verifyOptions: verifyOptions, delegate: delegate, clock: clk, verified: lru.New(verifiedCertEntries)}
}

// AuthenticateRequest implements authenticator.Request.
func (c *cachedCertAuthenticator) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return c.delegate.AuthenticateRequest(req)
	}
	opts, ok := c.verifyOptions()
	if !ok {
		return c.delegate.AuthenticateRequest(req)
	}
	key := chainKey(req.TLS.PeerCertificates)
	now := c.clock.Now()
	if v, ok := c.verified.Get(key); ok {
		entry := v.(verifiedChain)
		if entry.roots == opts.Roots && now.Before(entry.until) {
			response := *entry.response
			return &response, true, nil
		}
		c.verified.Remove(key)
	}
	response, ok, err := c.delegate.AuthenticateRequest(req)
	if ok && err == nil {
		until := now.Add(verifiedCertTTL)
		if leafEnd := req.TLS.PeerCertificates[0].NotAfter; leafEnd.Before(until) {
			until = leafEnd
		}
		kept := *response
		c.verified.Add(key, verifiedChain{response: &kept, roots: opts.Roots, until: until})
	}
	return response, ok, err
}

// chainKey identifies the certificates a client presented, intermediates
// included (they take part in the verification).
func chainKey(certs []*x509.Certificate) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	for _, cert := range certs {
		binary.BigEndian.PutUint64(n[:], uint64(len(cert.Raw)))
		h.Write(n[:])
		h.Write(cert.Raw)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}

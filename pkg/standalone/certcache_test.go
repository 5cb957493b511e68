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
	"encoding/pem"
	"net/http"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/arl-infra/arl/pkg/sidecar/pki"
)

// countingAuthenticator counts the verifications that reach the real
// x509 authenticator.
type countingAuthenticator struct {
	delegate authenticator.Request
	calls    int
}

func (c *countingAuthenticator) AuthenticateRequest(req *http.Request) (*authenticator.Response, bool, error) {
	c.calls++
	return c.delegate.AuthenticateRequest(req)
}

func newTestCA(t *testing.T, name string) (*pki.CA, dynamiccertificates.CAContentProvider) {
	t.Helper()
	ca, err := pki.NewCA(name, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	content, err := dynamiccertificates.NewStaticCAContent(name, ca.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	return ca, content
}

// requestWith is a request whose TLS connection presented a client
// certificate issued by ca for name, valid for validity.
func requestWith(t *testing.T, ca *pki.CA, name string, validity time.Duration) *http.Request {
	t.Helper()
	kp, err := ca.Issue(name, validity, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(kp.CertPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, "https://arl/apis", nil)
	req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	return req
}

func TestCachedCertAuthenticator(t *testing.T) {
	caA, contentA := newTestCA(t, "ca-a")
	caB, contentB := newTestCA(t, "ca-b")
	current := contentA
	verifyOptions := func() (x509.VerifyOptions, bool) { return current.VerifyOptions() }
	clk := testingclock.NewFakePassiveClock(time.Now())
	real := &countingAuthenticator{delegate: x509request.NewDynamic(verifyOptions, x509request.CommonNameUserConversion)}
	cached := newCachedCertAuthenticator(verifyOptions, real, clk)

	authenticate := func(what string, req *http.Request, wantUser string, wantVerified int) {
		t.Helper()
		before := real.calls
		resp, ok, err := cached.AuthenticateRequest(req)
		user := ""
		if ok && err == nil {
			user = resp.User.GetName()
		}
		if user != wantUser || real.calls-before != wantVerified {
			t.Errorf("%s: user %q (ok %v, err %v) after %d verifications; want %q after %d", what, user, ok, err, real.calls-before, wantUser, wantVerified)
		}
	}

	alice := requestWith(t, caA, "alice", time.Hour)
	authenticate("alice's first request", alice, "alice", 1)
	authenticate("alice again", alice, "alice", 0)
	bob := requestWith(t, caA, "bob", time.Hour)
	authenticate("another certificate", bob, "bob", 1)
	authenticate("alice once more", alice, "alice", 0)

	clk.SetTime(clk.Now().Add(verifiedCertTTL + time.Second))
	authenticate("alice after the TTL", alice, "alice", 1)

	stranger := requestWith(t, caB, "mallory", time.Hour)
	authenticate("a certificate of another CA", stranger, "", 1)
	authenticate("the refused certificate again: not cached", stranger, "", 1)

	// The CA file now holds CA B: alice's chain is verified again, and refused.
	current = contentB
	authenticate("alice after the CA changed", alice, "", 1)
	authenticate("mallory after the CA changed", stranger, "mallory", 1)
	authenticate("mallory again", stranger, "mallory", 0)

	// A certificate that expires before the TTL is served from the cache
	// until it expires, and verified again after (the x509 authenticator
	// reads the real clock, so here it still accepts it: what matters is
	// that it was asked).
	clk.SetTime(time.Now())
	short := requestWith(t, caB, "carol", 30*time.Second)
	authenticate("carol", short, "carol", 1)
	authenticate("carol again", short, "carol", 0)
	clk.SetTime(short.TLS.PeerCertificates[0].NotAfter.Add(time.Second))
	authenticate("carol past NotAfter", short, "carol", 1)

	noCert, _ := http.NewRequest(http.MethodGet, "https://arl/apis", nil)
	if _, ok, _ := cached.AuthenticateRequest(noCert); ok {
		t.Error("a request without a certificate was authenticated")
	}
}

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
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/arl-infra/arl/pkg/sidecar/pki"
)

func TestRenewalReason(t *testing.T) {
	ca, err := pki.NewCA("test-ca", 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.NewCA("other-ca", 10*365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	spec := leafSpec{secret: "s", cn: "arl-apiserver.arl-system.svc", sans: ServingNames("arl-system"),
		usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	issue := func(ca *pki.CA, spec leafSpec) *material {
		kp, err := ca.Issue(spec.cn, 90*24*time.Hour, spec.usages, spec.sans...)
		if err != nil {
			t.Fatal(err)
		}
		return &material{cert: kp.CertPEM, key: kp.KeyPEM, ca: ca.CertPEM}
	}
	fresh := issue(ca, spec)
	foreign := issue(other, spec)
	now := time.Now()
	renamed := spec
	renamed.sans = ServingNames("elsewhere")
	for _, tc := range []struct {
		name string
		have *material
		now  time.Time
		spec leafSpec
		want string // "" or part of the reason
	}{
		{"fresh", fresh, now, spec, ""},
		{"just before two thirds of its life", fresh, now.Add(59 * 24 * time.Hour), spec, ""},
		{"past two thirds of its life", fresh, now.Add(61 * 24 * time.Hour), spec, "two thirds"},
		{"expired", fresh, now.Add(100 * 24 * time.Hour), spec, "not valid"},
		{"signed by another CA", &material{cert: foreign.cert, key: foreign.key, ca: ca.CertPEM}, now, spec, "not valid under the current CA"},
		{"stale CA bundle", &material{cert: fresh.cert, key: fresh.key, ca: other.CertPEM}, now, spec, "CA bundle"},
		{"key of another certificate", &material{cert: fresh.cert, key: issue(ca, spec).key, ca: ca.CertPEM}, now, spec, "key pair"},
		{"names changed (another namespace)", fresh, now, renamed, "names changed"},
		{"wrong usage", fresh, now, leafSpec{cn: spec.cn, sans: spec.sans, usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := renewalReason(tc.have, ca, tc.spec, tc.now)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("renewalReason = %q, want %q", got, tc.want)
			}
		})
	}
}

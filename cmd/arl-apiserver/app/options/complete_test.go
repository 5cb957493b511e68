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

package options

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/arl-infra/arl/pkg/certs"
)

// TestCompleteInCluster: outside standalone mode Complete leaves the
// delegated authentication and the flags alone, except that
// --manage-certificates points the serving and etcd client certificates
// at the files it keeps in --cert-dir.
func TestCompleteInCluster(t *testing.T) {
	cases := []struct {
		name                         string
		args                         []string
		wantServingCert, wantEtcdKey string
		wantEtcdCA                   string
	}{{
		name:            "certificates from flags",
		args:            []string{"--tls-cert-file=/etc/arl/tls.crt", "--etcd-keyfile=/etc/arl/etcd.key"},
		wantServingCert: "/etc/arl/tls.crt", wantEtcdKey: "/etc/arl/etcd.key",
	}, {
		name:            "managed certificates",
		args:            []string{"--manage-certificates", "--cert-dir=/run/certs"},
		wantServingCert: filepath.Join("/run/certs", certs.FileServingCert),
		wantEtcdKey:     filepath.Join("/run/certs", certs.FileEtcdClientKey),
		wantEtcdCA:      filepath.Join("/run/certs", certs.FileEtcdCA),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := parseFlags(t, append([]string{"--etcd-servers=https://etcd:2379"}, c.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Complete(false); err != nil {
				t.Fatal(err)
			}
			ro := o.RecommendedOptions
			if got := ro.SecureServing.ServerCert.CertKey.CertFile; got != c.wantServingCert {
				t.Errorf("serving certificate %q, want %q", got, c.wantServingCert)
			}
			if got := ro.Etcd.StorageConfig.Transport.KeyFile; got != c.wantEtcdKey {
				t.Errorf("etcd client key %q, want %q", got, c.wantEtcdKey)
			}
			if got := ro.Etcd.StorageConfig.Transport.TrustedCAFile; got != c.wantEtcdCA {
				t.Errorf("etcd CA %q, want %q", got, c.wantEtcdCA)
			}
			if ro.Authentication == nil || ro.Authorization == nil || ro.CoreAPI == nil {
				t.Error("a server in a cluster lost its delegated authentication, authorization or core API client")
			}
			if o.EmbeddedEtcdURL() != "" || o.PKI() != nil {
				t.Errorf("a server in a cluster got standalone parts: etcd %q, PKI %v", o.EmbeddedEtcdURL(), o.PKI())
			}
			if got := ro.SecureServing.BindAddress.String(); got != "0.0.0.0" {
				t.Errorf("bind address %s, want the default 0.0.0.0", got)
			}
		})
	}
}

// TestCompleteStandalone: standalone mode needs no kube-apiserver, so
// delegated authentication, authorization, admission and the core API
// client go; it serves on loopback unless told otherwise, with its own
// PKI's certificate unless given one, on its own etcd unless given one.
func TestCompleteStandalone(t *testing.T) {
	cases := []struct {
		name           string
		args           []string
		bindAddressSet bool
		wantBind       string
		wantCert       func(*Options) string
		wantEmbedded   bool
	}{{
		name:         "defaults",
		wantBind:     "127.0.0.1",
		wantCert:     func(o *Options) string { return o.PKI().ServingCertFile },
		wantEmbedded: true,
	}, {
		name:           "bind address, certificate and etcd given",
		args:           []string{"--bind-address=0.0.0.0", "--tls-cert-file=/etc/arl/tls.crt", "--tls-private-key-file=/etc/arl/tls.key", "--etcd-servers=http://10.0.0.2:2379"},
		bindAddressSet: true,
		wantBind:       "0.0.0.0",
		wantCert:       func(*Options) string { return "/etc/arl/tls.crt" },
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A relative --data-dir is made absolute: the server's files
			// must not move with a later working directory.
			t.Chdir(t.TempDir())
			o, err := parseFlags(t, append([]string{"--standalone", "--data-dir=state"}, c.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if err := o.Complete(c.bindAddressSet); err != nil {
				t.Fatal(err)
			}
			wd, err := filepath.Abs(".")
			if err != nil {
				t.Fatal(err)
			}
			dataDir := filepath.Join(wd, "state")
			if o.Standalone.DataDir != dataDir {
				t.Errorf("data directory %q, want %q", o.Standalone.DataDir, dataDir)
			}
			if got, want := o.KubeconfigPath(), filepath.Join(dataDir, "kubeconfig"); got != want {
				t.Errorf("kubeconfig %q, want %q", got, want)
			}
			if got, want := o.EtcdDataDir(), filepath.Join(dataDir, "etcd"); got != want {
				t.Errorf("etcd data %q, want %q", got, want)
			}
			if o.PKI() == nil || o.PKI().Dir != filepath.Join(dataDir, "pki") {
				t.Fatalf("PKI %+v, want one in %s", o.PKI(), filepath.Join(dataDir, "pki"))
			}
			ro := o.RecommendedOptions
			if got := ro.SecureServing.BindAddress.String(); got != c.wantBind {
				t.Errorf("bind address %s, want %s", got, c.wantBind)
			}
			if got, want := ro.SecureServing.ServerCert.CertKey.CertFile, c.wantCert(o); got != want {
				t.Errorf("serving certificate %q, want %q", got, want)
			}
			if ro.Authentication != nil || ro.Authorization != nil || ro.CoreAPI != nil || ro.Admission != nil {
				t.Error("standalone mode kept options that need a kube-apiserver")
			}
			if ro.Features.EnablePriorityAndFairness {
				t.Error("standalone mode kept priority and fairness, which needs a kube-apiserver")
			}
			servers := ro.Etcd.StorageConfig.Transport.ServerList
			if !c.wantEmbedded {
				if o.EmbeddedEtcdURL() != "" || len(servers) != 1 || servers[0] != "http://10.0.0.2:2379" {
					t.Errorf("given etcd replaced: embedded %q, servers %v", o.EmbeddedEtcdURL(), servers)
				}
				return
			}
			u, err := url.Parse(o.EmbeddedEtcdURL())
			if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
				t.Fatalf("embedded etcd URL %q, want http on a loopback port", o.EmbeddedEtcdURL())
			}
			if len(servers) != 1 || servers[0] != o.EmbeddedEtcdURL() {
				t.Errorf("storage uses %v, not the embedded etcd %s", servers, o.EmbeddedEtcdURL())
			}
			if err := o.Validate(); err != nil {
				t.Errorf("completed standalone defaults do not validate: %v", err)
			}
		})
	}
}

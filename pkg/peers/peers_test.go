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

package peers

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
)

// runner is a replica over real TLS: it serves the log of Task ns/running,
// answers 410 for ns/gone, and refuses a request without the token.
func runner(t *testing.T) (*httptest.Server, Trust) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer replica-token" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/apis/arl.infra.io/v1alpha1/namespaces/ns/tasks/running/log":
			_, _ = io.WriteString(w, "follow="+r.URL.Query().Get("follow")+" raw="+r.URL.Query().Get("raw")+"\n")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusGone)
			// As an API server answers: a Status with its kind.
			status := apierrors.NewResourceExpired("output no longer kept").Status()
			status.Kind, status.APIVersion = "Status", "v1"
			_ = json.NewEncoder(w).Encode(status)
		}
	}))
	t.Cleanup(srv.Close)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	// httptest's certificate names example.com, as a replica's names its service.
	return srv, Trust{CAData: ca, ServerName: "example.com"}
}

func newClient(addr string, trust func() Trust) *Client {
	return New(Config{
		Credentials: &rest.Config{BearerToken: "replica-token"},
		Self:        "10.0.0.1:8443",
		Resolve: func(_ context.Context, runner string) (string, error) {
			if runner == "replica-b" {
				return addr, nil
			}
			if runner == "me" {
				return "10.0.0.1:8443", nil
			}
			return "", nil
		},
		Trust: func(context.Context) (Trust, error) { return trust(), nil },
	})
}

func TestOpenLog(t *testing.T) {
	srv, trust := runner(t)
	addr := strings.TrimPrefix(srv.URL, "https://")
	c := newClient(addr, func() Trust { return trust })
	query := url.Values{"follow": {"true"}, "raw": {"false"}}

	out, err := c.OpenLog(context.Background(), "replica-b", "ns", "running", query)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out)
	_ = out.Close()
	if string(got) != "follow=true raw=false\n" {
		t.Errorf("log from the runner %q", got)
	}

	if _, err := c.OpenLog(context.Background(), "replica-b", "ns", "gone", query); !apierrors.IsResourceExpired(err) {
		t.Errorf("the runner's 410 came back as %v, want the same API error", err)
	}
	if resolved := c.addresses["replica-b"]; resolved != addr {
		t.Errorf("replica-b's address is not remembered: %q", resolved)
	}
	for _, who := range []string{"me", "replica-gone"} {
		if _, err := c.OpenLog(context.Background(), who, "ns", "running", query); !errors.Is(err, ErrUnreachable) {
			t.Errorf("runner %s: %v, want ErrUnreachable", who, err)
		}
	}
}

// TestOpenLogVerifiesTheRunner: a certificate the caBundle does not sign
// is refused; a caBundle rotated since is read again.
func TestOpenLogVerifiesTheRunner(t *testing.T) {
	srv, trust := runner(t)
	otherCA, _, err := certutil.GenerateSelfSignedCertKey("example.com", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherTrust := Trust{CAData: otherCA, ServerName: "example.com"}
	addr := strings.TrimPrefix(srv.URL, "https://")

	wrong := newClient(addr, func() Trust { return otherTrust })
	if _, err := wrong.OpenLog(context.Background(), "replica-b", "ns", "running", nil); !errors.Is(err, ErrUnreachable) {
		t.Errorf("a runner the caBundle does not sign: %v, want ErrUnreachable", err)
	}

	var reads atomic.Int32
	rotated := newClient(addr, func() Trust {
		if reads.Add(1) == 1 {
			return otherTrust
		}
		return trust
	})
	out, err := rotated.OpenLog(context.Background(), "replica-b", "ns", "running", nil)
	if err != nil {
		t.Fatalf("after the caBundle rotated: %v", err)
	}
	_ = out.Close()
	if reads.Load() != 2 {
		t.Errorf("the caBundle was read %d times, want 2", reads.Load())
	}
}

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
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/arl-infra/arl/pkg/pool"
)

// New only builds the runtime (it runs while the server's config is
// built); Prepare makes its API calls, and Run refuses to start without them.
func TestNewCallsNoAPIPrepareLoadsTheCA(t *testing.T) {
	client := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "arl-system", UID: "arl-system-uid"}})
	r, err := New(Options{Client: client, SidecarImage: "arl-sidecar:test", Namespace: "arl-system", Identity: "test", NetworkPolicies: true})
	if err != nil {
		t.Fatal(err)
	}
	if actions := client.Actions(); len(actions) != 0 {
		t.Fatalf("New called the API: %v", actions)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Run(ctx, func(*pool.Pod, bool) {}); err == nil || !strings.Contains(err.Error(), "Prepare") {
		t.Fatalf("Run before Prepare: err = %v, want a refusal naming Prepare", err)
	}

	if err := r.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Secrets("arl-system").Get(ctx, CASecret, metav1.GetOptions{}); err != nil {
		t.Fatalf("Prepare did not create the CA Secret: %v", err)
	}
	if r.owner.UID != "arl-system-uid" || r.owner.Kind != "Namespace" {
		t.Errorf("owner = %+v, want the server's namespace", r.owner)
	}
	if target := r.Target(&pool.Pod{IP: "10.0.0.1"}); target.TLS == nil {
		t.Error("after Prepare the sidecar target has no TLS config")
	}
}

func TestPrepareFailsWithoutTheServersNamespace(t *testing.T) {
	r, err := New(Options{Client: fake.NewClientset(), SidecarImage: "arl-sidecar:test", Namespace: "arl-system", Identity: "test"})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Prepare(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the server's namespace arl-system") {
		t.Fatalf("Prepare: err = %v, want the missing namespace", err)
	}
}

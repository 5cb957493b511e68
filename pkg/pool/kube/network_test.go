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
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool"
)

// These tests drive the runtime against client-go's fake clientset (an
// in-memory object tracker, no kube-apiserver): they check what the runtime
// writes and when. The e2e suite (test/e2e/security_test.go) has the real
// kube-apiserver validate and store the same policies.

// startRuntime runs a Kubernetes runtime on a fake clientset holding objs
// and waits for its caches.
func startRuntime(t *testing.T, opts Options, objs ...runtime.Object) (*Runtime, *fake.Clientset) {
	t.Helper()
	// The server's own namespace exists: pool pods name it as their owner.
	objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "arl-system", UID: "arl-system-uid"}})
	client := fake.NewClientset(objs...)
	opts.Client = client
	opts.SidecarImage = "arl-sidecar:test"
	opts.Namespace = "arl-system"
	opts.Identity = "test"
	if opts.ServerLabels == nil {
		opts.ServerLabels = map[string]string{"app.kubernetes.io/name": "arl-apiserver"}
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.Run(ctx, func(*pool.Pod, bool) {}) }()
	waitUntil(t, "the runtime's caches", r.HasSynced)
	return r, client
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// writes lists the create, update and delete calls on networkpolicies.
func writes(client *fake.Clientset) []string {
	var out []string
	for _, a := range client.Actions() {
		if a.GetResource().Resource == "networkpolicies" && slices.Contains([]string{"create", "update", "delete", "patch"}, a.GetVerb()) {
			out = append(out, a.GetVerb())
		}
	}
	return out
}

func getPolicy(t *testing.T, client *fake.Clientset, ns, name string) *networkingv1.NetworkPolicy {
	t.Helper()
	np, err := client.NetworkingV1().NetworkPolicies(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return np
}

// TestNetworkPolicyFollowsThePool: the pool's NetworkPolicy is created,
// left alone while the pool says the same, updated when it changes,
// listed for the Manager, and deleted with the pool.
func TestNetworkPolicyFollowsThePool(t *testing.T) {
	r, client := startRuntime(t, Options{NetworkPolicies: true})
	ctx := context.Background()
	p := manualPool()
	p.Spec.Network.Egress.Mode = arlv1alpha1.EgressInternet

	msg, err := r.EnsurePoolNetwork(ctx, p)
	if err != nil || msg != "Created NetworkPolicy arl-pool-python-pool (egress Internet)" {
		t.Fatalf("first ensure: %q, %v", msg, err)
	}
	if np := getPolicy(t, client, "default", "arl-pool-python-pool"); len(np.Spec.Egress) != 2 {
		t.Errorf("stored policy egress %+v", np.Spec.Egress)
	}
	waitUntil(t, "the policy in the cache", func() bool { return len(r.NetworkPoolKeys()) == 1 })
	if keys := r.NetworkPoolKeys(); !slices.Equal(keys, []string{"default/python-pool"}) {
		t.Errorf("NetworkPoolKeys %v", keys)
	}

	if msg, err := r.EnsurePoolNetwork(ctx, p); err != nil || msg != "" {
		t.Errorf("unchanged pool: %q, %v; want nothing done", msg, err)
	}
	if w := writes(client); !slices.Equal(w, []string{"create"}) {
		t.Errorf("writes %v, want one create", w)
	}

	p.Spec.Network.Egress.Mode = arlv1alpha1.EgressDenyAll
	if msg, err := r.EnsurePoolNetwork(ctx, p); err != nil || msg != "Updated NetworkPolicy arl-pool-python-pool (egress DenyAll)" {
		t.Fatalf("changed pool: %q, %v", msg, err)
	}
	if np := getPolicy(t, client, "default", "arl-pool-python-pool"); len(np.Spec.Egress) != 0 || len(np.Spec.PolicyTypes) != 2 {
		t.Errorf("DenyAll policy %+v", np.Spec)
	}

	// Someone edits ARL's policy: the next sync puts it back.
	waitUntil(t, "the update in the cache", func() bool {
		np, err := r.network.policies.NetworkPolicies("default").Get("arl-pool-python-pool")
		return err == nil && len(np.Spec.Egress) == 0
	})
	edited := getPolicy(t, client, "default", "arl-pool-python-pool")
	edited.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	if _, err := client.NetworkingV1().NetworkPolicies("default").Update(ctx, edited, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the edit in the cache", func() bool {
		np, _ := r.network.policies.NetworkPolicies("default").Get("arl-pool-python-pool")
		return len(np.Spec.PolicyTypes) == 1
	})
	if msg, err := r.EnsurePoolNetwork(ctx, p); err != nil || !strings.HasPrefix(msg, "Updated") {
		t.Fatalf("edited policy: %q, %v", msg, err)
	}
	if np := getPolicy(t, client, "default", "arl-pool-python-pool"); len(np.Spec.PolicyTypes) != 2 {
		t.Errorf("policy types after the sync %v, want Ingress and Egress again", np.Spec.PolicyTypes)
	}

	if err := r.DeletePoolNetwork(ctx, "default", "python-pool"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.NetworkingV1().NetworkPolicies("default").Get(ctx, "arl-pool-python-pool", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after delete: %v, want NotFound", err)
	}
	waitUntil(t, "the delete in the cache", func() bool { return len(r.NetworkPoolKeys()) == 0 })
	if err := r.DeletePoolNetwork(ctx, "default", "python-pool"); err != nil {
		t.Errorf("deleting again: %v", err)
	}
}

// TestNetworkPolicyFailsClosed: a policy the API refuses to store is an
// error for the Manager (which then creates no pods), not a silent pass.
func TestNetworkPolicyFailsClosed(t *testing.T) {
	r, client := startRuntime(t, Options{NetworkPolicies: true})
	client.PrependReactor("create", "networkpolicies", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(networkingv1.Resource("networkpolicies"), "arl-pool-python-pool", errors.New("RBAC"))
	})
	p := manualPool()
	if _, err := r.EnsurePoolNetwork(context.Background(), p); !apierrors.IsForbidden(errors.Unwrap(err)) {
		t.Errorf("got %v, want the Forbidden", err)
	}
}

// TestNetworkPolicyExcludesKubeAPIServer: the addresses of Service
// default/kubernetes's EndpointSlices are outside the Internet egress.
func TestNetworkPolicyExcludesKubeAPIServer(t *testing.T) {
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "kubernetes", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"34.118.0.10"}}, {Addresses: []string{"34.118.0.11"}}},
	}
	r, client := startRuntime(t, Options{NetworkPolicies: true, EgressDenied: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}, slice)
	if _, err := r.EnsurePoolNetwork(context.Background(), manualPool()); err != nil {
		t.Fatal(err)
	}
	except := getPolicy(t, client, "default", "arl-pool-python-pool").Spec.Egress[1].To[0].IPBlock.Except
	for _, want := range []string{"34.118.0.10/32", "34.118.0.11/32", "198.51.100.0/24", "169.254.0.0/16"} {
		if !slices.Contains(except, want) {
			t.Errorf("Internet rule excepts %v, want %s among them", except, want)
		}
	}
}

// TestNetworkPolicyResolvesDNSNames: names resolve through the resolver,
// at most once per dnsCacheTTL; a name that does not resolve is reported
// and allows nothing.
func TestNetworkPolicyResolvesDNSNames(t *testing.T) {
	var lookups atomic.Int32
	resolver := func(ctx context.Context, host string) ([]netip.Addr, error) {
		lookups.Add(1)
		if host == "pypi.org" {
			return []netip.Addr{netip.MustParseAddr("151.101.64.223"), netip.MustParseAddr("151.101.0.223"), netip.MustParseAddr("151.101.0.223")}, nil
		}
		return nil, errors.New("no such host")
	}
	r, client := startRuntime(t, Options{NetworkPolicies: true, Resolver: resolver})
	p := manualPool()
	p.Spec.Network.Egress = arlv1alpha1.PoolEgress{Mode: arlv1alpha1.EgressAllowList, Allow: []arlv1alpha1.EgressRule{
		{DNSName: "pypi.org", Ports: []arlv1alpha1.EgressPort{{Protocol: corev1.ProtocolTCP, Port: 443}}},
		{DNSName: "gone.example.com"},
		{DNSName: "pypi.org", Ports: []arlv1alpha1.EgressPort{{Protocol: corev1.ProtocolTCP, Port: 80}}},
	}}
	msg, err := r.EnsurePoolNetwork(context.Background(), p)
	if err != nil || !strings.Contains(msg, "gone.example.com: no such host") {
		t.Fatalf("ensure: %q, %v; want the unresolved name reported", msg, err)
	}
	np := getPolicy(t, client, "default", "arl-pool-python-pool")
	if len(np.Spec.Egress) != 3 {
		t.Fatalf("egress %+v, want DNS and pypi.org twice", np.Spec.Egress)
	}
	for _, rule := range np.Spec.Egress[1:] {
		if len(rule.To) != 2 || rule.To[0].IPBlock.CIDR != "151.101.0.223/32" || rule.To[1].IPBlock.CIDR != "151.101.64.223/32" {
			t.Errorf("pypi.org rule %+v", rule)
		}
	}
	if got := np.Annotations[AnnotationResolved]; got != `{"gone.example.com":[],"pypi.org":["151.101.0.223","151.101.64.223"]}` {
		t.Errorf("annotation %q", got)
	}
	if n := lookups.Load(); n != 2 {
		t.Errorf("%d lookups, want one per name", n)
	}
	if _, err := r.EnsurePoolNetwork(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if n := lookups.Load(); n != 2 {
		t.Errorf("%d lookups after a second sync within the cache's TTL, want 2", n)
	}
}

// TestNetworkPoliciesOff: with --pool-network-policies=false ARL writes none.
func TestNetworkPoliciesOff(t *testing.T) {
	r, client := startRuntime(t, Options{})
	if msg, err := r.EnsurePoolNetwork(context.Background(), manualPool()); msg != "" || err != nil {
		t.Errorf("ensure: %q, %v", msg, err)
	}
	if w := writes(client); len(w) != 0 {
		t.Errorf("writes %v, want none", w)
	}
}

// TestCreateRefusesPrivilegedTemplates: a pool stored before its
// namespace left --privileged-pool-namespaces gets no pods.
func TestCreateRefusesPrivilegedTemplates(t *testing.T) {
	r, client := startRuntime(t, Options{PrivilegedNamespaces: sets.New("trusted")})
	p := manualPool()
	p.Spec.Template.Spec.HostNetwork = true
	if _, err := r.Create(context.Background(), p); err == nil || !strings.Contains(err.Error(), "spec.template.spec.hostNetwork") {
		t.Errorf("create in default: %v, want a refusal naming hostNetwork", err)
	}
	p.Namespace = "trusted"
	created, err := r.Create(context.Background(), p)
	if err != nil {
		t.Fatalf("create in trusted: %v", err)
	}
	pod, err := client.CoreV1().Pods("trusted").Get(context.Background(), created.Name, metav1.GetOptions{})
	if err != nil || !pod.Spec.HostNetwork || pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
		t.Errorf("pod in trusted: %v %+v", err, ptr.Deref(pod, corev1.Pod{}).Spec)
	}
}

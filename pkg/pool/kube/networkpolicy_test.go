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
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
)

var testNetworkConfig = networkConfig{
	serverNamespace: "arl-system",
	serverLabels:    map[string]string{"app.kubernetes.io/name": "arl-apiserver"},
	// kube-apiserver on a public address (a managed cluster), and one
	// on a private one the non-public ranges already cover.
	denied: []netip.Prefix{netip.MustParsePrefix("34.118.0.10/32"), netip.MustParsePrefix("10.0.0.2/32")},
}

func port(protocol corev1.Protocol, p int32) networkingv1.NetworkPolicyPort {
	return networkingv1.NetworkPolicyPort{Protocol: ptr.To(protocol), Port: ptr.To(intstr.FromInt32(p))}
}

func ipBlock(cidr string, except ...string) networkingv1.NetworkPolicyPeer {
	return networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}
}

var (
	dnsRule = networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolUDP, 53), port(corev1.ProtocolTCP, 53)}}
	// internetRule is public IPv4 and IPv6 but kube-apiserver's public address.
	internetRule = networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{
		ipBlock("0.0.0.0/0", "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
			"192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3", "168.63.129.16/32", "34.118.0.10/32"),
		ipBlock("::/0", "fc00::/7", "fe80::/10", "ff00::/8"),
	}}
)

func poolWithEgress(egress arlv1alpha1.PoolEgress) *arlv1alpha1.WarmPool {
	p := manualPool()
	p.Spec.Network.Egress = egress
	return p
}

// TestBuildNetworkPolicy: every pool's policy lets only arl-apiserver reach
// the sidecar port (so sandboxes cannot reach each other), and its egress
// is what the mode and allow list say: never an accidental "everything".
func TestBuildNetworkPolicy(t *testing.T) {
	tests := []struct {
		name     string
		egress   arlv1alpha1.PoolEgress
		resolved map[string][]netip.Addr
		want     []networkingv1.NetworkPolicyEgressRule
		// annotation is the resolved-names annotation, "" for none.
		annotation string
	}{
		{
			name:   "Internet: DNS and public addresses",
			egress: arlv1alpha1.PoolEgress{Mode: arlv1alpha1.EgressInternet},
			want:   []networkingv1.NetworkPolicyEgressRule{dnsRule, internetRule},
		},
		{
			name:   "an empty mode is Internet, never open",
			egress: arlv1alpha1.PoolEgress{},
			want:   []networkingv1.NetworkPolicyEgressRule{dnsRule, internetRule},
		},
		{
			name:   "DenyAll: no rule at all",
			egress: arlv1alpha1.PoolEgress{Mode: arlv1alpha1.EgressDenyAll},
		},
		{
			name: "AllowList: DNS, the CIDRs on their ports, the names at their addresses",
			egress: arlv1alpha1.PoolEgress{Mode: arlv1alpha1.EgressAllowList, Allow: []arlv1alpha1.EgressRule{
				{CIDR: "203.0.113.0/24", Ports: []arlv1alpha1.EgressPort{{Protocol: corev1.ProtocolTCP, Port: 443}, {Protocol: corev1.ProtocolUDP, Port: 30000, EndPort: ptr.To[int32](30100)}}},
				{DNSName: "pypi.org", Ports: []arlv1alpha1.EgressPort{{Port: 443}}},
				{CIDR: "2001:db8::/32"},
			}},
			resolved: map[string][]netip.Addr{"pypi.org": {netip.MustParseAddr("151.101.0.223"), netip.MustParseAddr("2a04:4e42::223")}},
			want: []networkingv1.NetworkPolicyEgressRule{
				dnsRule,
				{To: []networkingv1.NetworkPolicyPeer{ipBlock("203.0.113.0/24")}, Ports: []networkingv1.NetworkPolicyPort{
					port(corev1.ProtocolTCP, 443), {Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(intstr.FromInt32(30000)), EndPort: ptr.To[int32](30100)}}},
				{To: []networkingv1.NetworkPolicyPeer{ipBlock("151.101.0.223/32"), ipBlock("2a04:4e42::223/128")}, Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 443)}},
				{To: []networkingv1.NetworkPolicyPeer{ipBlock("2001:db8::/32")}},
			},
			annotation: `{"pypi.org":["151.101.0.223","2a04:4e42::223"]}`,
		},
		{
			// A rule without peers would allow every destination.
			name: "a name that did not resolve allows nothing",
			egress: arlv1alpha1.PoolEgress{Mode: arlv1alpha1.EgressAllowList, Allow: []arlv1alpha1.EgressRule{
				{DNSName: "gone.example.com", Ports: []arlv1alpha1.EgressPort{{Protocol: corev1.ProtocolTCP, Port: 443}}},
			}},
			want:       []networkingv1.NetworkPolicyEgressRule{dnsRule},
			annotation: `{"gone.example.com":[]}`,
		},
		{
			name:   "Internet plus an internal mirror",
			egress: arlv1alpha1.PoolEgress{Mode: arlv1alpha1.EgressInternet, Allow: []arlv1alpha1.EgressRule{{CIDR: "10.20.0.5/32", Ports: []arlv1alpha1.EgressPort{{Protocol: corev1.ProtocolTCP, Port: 3128}}}}},
			want: []networkingv1.NetworkPolicyEgressRule{dnsRule, internetRule,
				{To: []networkingv1.NetworkPolicyPeer{ipBlock("10.20.0.5/32")}, Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 3128)}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			np := buildNetworkPolicy(poolWithEgress(tc.egress), testNetworkConfig, tc.resolved)
			if np.Name != "arl-pool-python-pool" || np.Namespace != "default" ||
				!cmp.Equal(np.Labels, map[string]string{"app.kubernetes.io/managed-by": "arl", arl.LabelPool: "python-pool"}) {
				t.Errorf("metadata %+v", np.ObjectMeta)
			}
			spec := np.Spec
			if !cmp.Equal(spec.PodSelector, metav1.LabelSelector{MatchLabels: map[string]string{arl.LabelPool: "python-pool"}}) ||
				!cmp.Equal(spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
				t.Errorf("selector %+v policy types %v", spec.PodSelector, spec.PolicyTypes)
			}
			wantIngress := []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "arl-system"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "arl-apiserver"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{port(corev1.ProtocolTCP, 50051)},
			}}
			if diff := cmp.Diff(wantIngress, spec.Ingress); diff != "" {
				t.Errorf("ingress (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, spec.Egress); diff != "" {
				t.Errorf("egress (-want +got):\n%s", diff)
			}
			for i, rule := range spec.Egress {
				if len(rule.To) == 0 && !cmp.Equal(rule, dnsRule) {
					t.Errorf("egress[%d] has no peers: it allows every destination", i)
				}
			}
			if got := np.Annotations[AnnotationResolved]; got != tc.annotation {
				t.Errorf("annotation %q, want %q", got, tc.annotation)
			}
		})
	}
}

// TestInternetExcludesMetadataAndKubeAPIServer: the cloud metadata
// endpoints and kube-apiserver's addresses are outside the Internet rule.
func TestInternetExcludesMetadataAndKubeAPIServer(t *testing.T) {
	np := buildNetworkPolicy(poolWithEgress(arlv1alpha1.PoolEgress{Mode: arlv1alpha1.EgressInternet}), testNetworkConfig, nil)
	var blocks []*networkingv1.IPBlock
	for _, rule := range np.Spec.Egress {
		for _, peer := range rule.To {
			blocks = append(blocks, peer.IPBlock)
		}
	}
	allowed := func(addr netip.Addr) bool {
		for _, b := range blocks {
			if !netip.MustParsePrefix(b.CIDR).Contains(addr) {
				continue
			}
			excepted := false
			for _, e := range b.Except {
				excepted = excepted || netip.MustParsePrefix(e).Contains(addr)
			}
			if !excepted {
				return true
			}
		}
		return false
	}
	for _, addr := range append(validation.MetadataAddresses,
		netip.MustParseAddr("34.118.0.10"),  // kube-apiserver, public
		netip.MustParseAddr("10.96.0.1"),    // the kubernetes Service
		netip.MustParseAddr("10.244.77.5"),  // another sandbox
		netip.MustParseAddr("192.168.1.10"), // a node
		netip.MustParseAddr("fd12:3456::1"), // a pod on IPv6
	) {
		if allowed(addr) {
			t.Errorf("%s is reachable in Internet mode", addr)
		}
	}
	for _, addr := range []netip.Addr{netip.MustParseAddr("151.101.0.223"), netip.MustParseAddr("2a04:4e42::223")} {
		if !allowed(addr) {
			t.Errorf("public %s is not reachable in Internet mode", addr)
		}
	}
}

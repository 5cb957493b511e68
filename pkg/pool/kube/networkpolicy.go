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
	"encoding/json"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

const (
	// networkPolicyPrefix + the pool's name is the pool's NetworkPolicy.
	networkPolicyPrefix = "arl-pool-"
	// AnnotationResolved records, on a pool's NetworkPolicy, what each of the
	// pool's egress DNS names resolved to (JSON: name → addresses).
	AnnotationResolved = "arl.infra.io/resolved-dns-names"
	labelManagedBy     = "app.kubernetes.io/managed-by"
	managedByARL       = "arl"
	dnsPort            = 53
)

// nonPublicRanges are what the Internet mode never reaches: every range
// that is not globally routable (RFC 6890), which is where clusters put
// pods, Services and nodes, and cloud metadata endpoints (169.254.169.254
// and fd00:ec2::254 are inside them; Azure's WireServer is not).
// IPv4-mapped IPv6 addresses leave a pod as IPv4 packets, which the IPv4
// exclusions meet (and Kubernetes refuses them in an ipBlock).
var nonPublicRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/3"),
	netip.MustParsePrefix("168.63.129.16/32"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

var (
	anyIPv4 = netip.MustParsePrefix("0.0.0.0/0")
	anyIPv6 = netip.MustParsePrefix("::/0")
)

// networkConfig is what a pool's NetworkPolicy depends on besides the pool.
type networkConfig struct {
	// serverNamespace and serverLabels select arl-apiserver's pods, the only
	// ones that may reach the sidecar.
	serverNamespace string
	serverLabels    map[string]string
	// denied are ranges the Internet mode excludes besides nonPublicRanges:
	// kube-apiserver's endpoints and the --pool-egress-deny-cidrs.
	denied []netip.Prefix
}

// networkPolicyName is the name of a pool's NetworkPolicy.
func networkPolicyName(poolName string) string { return networkPolicyPrefix + poolName }

// buildNetworkPolicy is the NetworkPolicy of a pool's pods: ingress only
// from arl-apiserver to the sidecar's port, so sandboxes cannot reach each
// other; egress as spec.network.egress says, with each DNS name allowed at
// the addresses it resolved to (resolved; a name without addresses allows
// nothing).
func buildNetworkPolicy(p *arlv1alpha1.WarmPool, cfg networkConfig, resolved map[string][]netip.Addr) *networkingv1.NetworkPolicy {
	np := &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{
			Name:      networkPolicyName(p.Name),
			Namespace: p.Namespace,
			Labels:    map[string]string{labelManagedBy: managedByARL, arl.LabelPool: p.Name},
		},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{arl.LabelPool: p.Name}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: cfg.serverNamespace}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: cfg.serverLabels},
				}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(SidecarPort))}},
			}},
		},
	}
	egress := &p.Spec.Network.Egress
	spec := &np.Spec
	if egress.Mode == arlv1alpha1.EgressDenyAll {
		return np
	}
	// DNS to any resolver: cluster DNS runs as pods, on nodes (NodeLocal
	// DNSCache) or outside the cluster depending on the cluster.
	spec.Egress = append(spec.Egress, networkingv1.NetworkPolicyEgressRule{Ports: []networkingv1.NetworkPolicyPort{
		{Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To(intstr.FromInt32(dnsPort))},
		{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(dnsPort))},
	}})
	if egress.Mode != arlv1alpha1.EgressAllowList {
		// Internet, and an empty mode (an object the defaults never saw) too.
		spec.Egress = append(spec.Egress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{
			{IPBlock: publicBlock(anyIPv4, cfg.denied)},
			{IPBlock: publicBlock(anyIPv6, cfg.denied)},
		}})
	}
	for _, rule := range egress.Allow {
		var to []networkingv1.NetworkPolicyPeer
		if rule.CIDR != "" {
			to = append(to, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: rule.CIDR}})
		} else {
			for _, addr := range resolved[rule.DNSName] {
				to = append(to, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: netip.PrefixFrom(addr, addr.BitLen()).String()}})
			}
		}
		// A rule without peers would allow every destination.
		if len(to) == 0 {
			continue
		}
		spec.Egress = append(spec.Egress, networkingv1.NetworkPolicyEgressRule{To: to, Ports: egressPorts(rule.Ports)})
	}
	if names := resolvedOf(egress, resolved); names != nil {
		data, _ := json.Marshal(names)
		np.Annotations = map[string]string{AnnotationResolved: string(data)}
	}
	return np
}

// publicBlock is all of family but the non-public ranges and denied.
func publicBlock(family netip.Prefix, denied []netip.Prefix) *networkingv1.IPBlock {
	block := &networkingv1.IPBlock{CIDR: family.String()}
	var except []netip.Prefix
	for _, p := range append(slices.Clone(nonPublicRanges), denied...) {
		p = p.Masked()
		if p.Addr().Is4() != family.Addr().Is4() || p.Bits() == 0 || covered(except, p) {
			continue
		}
		except = append(except, p)
	}
	for _, p := range except {
		// Ranges inside a wider one already excepted add nothing.
		if !coveredByOther(except, p) {
			block.Except = append(block.Except, p.String())
		}
	}
	return block
}

// covered says whether one of ranges contains all of p.
func covered(ranges []netip.Prefix, p netip.Prefix) bool {
	return slices.ContainsFunc(ranges, func(r netip.Prefix) bool { return r.Bits() <= p.Bits() && r.Contains(p.Addr()) })
}

// coveredByOther says whether a range other than p contains all of p.
func coveredByOther(ranges []netip.Prefix, p netip.Prefix) bool {
	return slices.ContainsFunc(ranges, func(r netip.Prefix) bool { return r != p && r.Bits() <= p.Bits() && r.Contains(p.Addr()) })
}

func egressPorts(ports []arlv1alpha1.EgressPort) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range ports {
		protocol := p.Protocol
		if protocol == "" {
			protocol = corev1.ProtocolTCP
		}
		np := networkingv1.NetworkPolicyPort{Protocol: ptr.To(protocol), Port: ptr.To(intstr.FromInt32(p.Port))}
		if p.EndPort != nil {
			np.EndPort = ptr.To(*p.EndPort)
		}
		out = append(out, np)
	}
	return out
}

// resolvedOf lists, for the annotation, what each DNS name of the pool
// resolved to; nil when the pool has none.
func resolvedOf(egress *arlv1alpha1.PoolEgress, resolved map[string][]netip.Addr) map[string][]string {
	var out map[string][]string
	for _, rule := range egress.Allow {
		if rule.DNSName == "" {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		addrs := []string{}
		for _, a := range resolved[rule.DNSName] {
			addrs = append(addrs, a.String())
		}
		out[rule.DNSName] = addrs
	}
	return out
}

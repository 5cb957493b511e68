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

package validation

import (
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// Bounds of a pool's egress allow list: each rule becomes NetworkPolicy
// rules, and each DNS name a lookup by the pool manager on every resync.
const (
	MaxEgressRules    = 64
	MaxEgressDNSNames = 16
	MaxEgressPorts    = 32
)

var (
	supportedEgressModes = sets.New(string(arl.EgressInternet), string(arl.EgressAllowList), string(arl.EgressDenyAll))
	supportedProtocols   = sets.New(string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP))
)

// MetadataAddresses are the cloud metadata endpoints: instance credentials
// live there. The Internet mode excludes them; an allow rule that covers
// one gets a warning.
var MetadataAddresses = []netip.Addr{
	netip.MustParseAddr("169.254.169.254"), // AWS, GCP, Azure, OpenStack, ...
	netip.MustParseAddr("fd00:ec2::254"),   // AWS over IPv6
	netip.MustParseAddr("100.100.100.200"), // Alibaba Cloud
	netip.MustParseAddr("168.63.129.16"),   // Azure WireServer
}

func validatePoolNetwork(network *arl.PoolNetwork, fldPath *field.Path) field.ErrorList {
	egress := &network.Egress
	egressPath := fldPath.Child("egress")
	var allErrs field.ErrorList
	if !supportedEgressModes.Has(string(egress.Mode)) {
		allErrs = append(allErrs, field.NotSupported(egressPath.Child("mode"), egress.Mode, sets.List(supportedEgressModes)))
	}
	allowPath := egressPath.Child("allow")
	if egress.Mode == arl.EgressDenyAll && len(egress.Allow) > 0 {
		allErrs = append(allErrs, field.Forbidden(allowPath, "mode DenyAll allows nothing: use mode AllowList to allow a list"))
	}
	if len(egress.Allow) > MaxEgressRules {
		return append(allErrs, field.TooMany(allowPath, len(egress.Allow), MaxEgressRules))
	}
	dnsNames := 0
	for i := range egress.Allow {
		rule := &egress.Allow[i]
		rulePath := allowPath.Index(i)
		switch {
		case rule.CIDR != "" && rule.DNSName != "":
			allErrs = append(allErrs, field.Forbidden(rulePath.Child("dnsName"), "a rule has one of cidr and dnsName"))
		case rule.CIDR != "":
			allErrs = append(allErrs, utilvalidation.IsValidCIDR(rulePath.Child("cidr"), rule.CIDR)...)
		case rule.DNSName != "":
			dnsNames++
			allErrs = append(allErrs, validateDNSName(rule.DNSName, rulePath.Child("dnsName"))...)
		default:
			allErrs = append(allErrs, field.Required(rulePath, "one of cidr and dnsName"))
		}
		allErrs = append(allErrs, validateEgressPorts(rule.Ports, rulePath.Child("ports"))...)
	}
	if dnsNames > MaxEgressDNSNames {
		allErrs = append(allErrs, field.Invalid(allowPath, fmt.Sprintf("%d DNS names", dnsNames),
			fmt.Sprintf("at most %d rules may be DNS names", MaxEgressDNSNames)))
	}
	return allErrs
}

// validateDNSName accepts absolute host names: the pool manager resolves
// them without search domains, which differ between its pod and the pool's.
func validateDNSName(name string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range utilvalidation.IsDNS1123Subdomain(name) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	if len(allErrs) > 0 {
		return allErrs
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return field.ErrorList{field.Invalid(fldPath, name, "an address belongs in cidr (with /32 or /128)")}
	}
	if !strings.Contains(name, ".") {
		return field.ErrorList{field.Invalid(fldPath, name, "must be an absolute name with at least one dot: it is resolved without search domains")}
	}
	return nil
}

func validateEgressPorts(ports []arl.EgressPort, fldPath *field.Path) field.ErrorList {
	if len(ports) > MaxEgressPorts {
		return field.ErrorList{field.TooMany(fldPath, len(ports), MaxEgressPorts)}
	}
	var allErrs field.ErrorList
	for i, p := range ports {
		idxPath := fldPath.Index(i)
		if !supportedProtocols.Has(string(p.Protocol)) {
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("protocol"), p.Protocol, sets.List(supportedProtocols)))
		}
		for _, msg := range utilvalidation.IsValidPortNum(int(p.Port)) {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("port"), p.Port, msg))
		}
		if p.EndPort != nil {
			if *p.EndPort < p.Port || *p.EndPort > 65535 {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("endPort"), *p.EndPort, fmt.Sprintf("must be between port (%d) and 65535", p.Port)))
			}
		}
	}
	return allErrs
}

// WarningsForPoolNetwork flags allow rules that reach a cloud metadata
// endpoint: pods there can read the node's cloud credentials.
func WarningsForPoolNetwork(network *arl.PoolNetwork, fldPath *field.Path) []string {
	var warnings []string
	for i, rule := range network.Egress.Allow {
		prefix, err := netip.ParsePrefix(rule.CIDR)
		if err != nil {
			continue
		}
		for _, addr := range MetadataAddresses {
			if prefix.Contains(addr) {
				warnings = append(warnings, fmt.Sprintf("%s: %s includes the cloud metadata endpoint %s: the pool's pods can read the node's cloud credentials there",
					fldPath.Child("egress", "allow").Index(i).Child("cidr"), rule.CIDR, addr))
				break
			}
		}
	}
	return warnings
}

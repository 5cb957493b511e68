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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

func executorOf(p *arl.WarmPool) *corev1.Container { return &p.Spec.Template.Spec.Containers[0] }

func securityOf(c *corev1.Container) *corev1.SecurityContext {
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	return c.SecurityContext
}

// TestPrivilegesAreRefused: every way a template reaches past its pod is a
// Forbidden naming its field, unless the pool's namespace is allowed; what
// only narrows the pod (drop ALL, add back a default capability,
// RuntimeDefault or Localhost seccomp) passes everywhere.
func TestPrivilegesAreRefused(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*arl.WarmPool)
		want   []string
	}{
		{name: "host network", mutate: func(p *arl.WarmPool) { p.Spec.Template.Spec.HostNetwork = true },
			want: []string{"FieldValueForbidden spec.template.spec.hostNetwork"}},
		{name: "host PID and IPC", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.HostPID, p.Spec.Template.Spec.HostIPC = true, true
		}, want: []string{"FieldValueForbidden spec.template.spec.hostPID", "FieldValueForbidden spec.template.spec.hostIPC"}},
		{name: "a process namespace shared with the sidecar", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.ShareProcessNamespace = ptr.To(true)
		}, want: []string{"FieldValueForbidden spec.template.spec.shareProcessNamespace"}},
		{name: "hostPath volume", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Volumes = append(p.Spec.Template.Spec.Volumes,
				corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				corev1.Volume{Name: "root", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
		}, want: []string{"FieldValueForbidden spec.template.spec.volumes[1].hostPath"}},
		{name: "privileged executor", mutate: func(p *arl.WarmPool) { securityOf(executorOf(p)).Privileged = ptr.To(true) },
			want: []string{"FieldValueForbidden spec.template.spec.containers[0].securityContext.privileged"}},
		{name: "privileged init container", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "setup", Image: "x",
				SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}}
		}, want: []string{"FieldValueForbidden spec.template.spec.initContainers[0].securityContext.privileged"}},
		{name: "capabilities beyond the defaults, in either spelling", mutate: func(p *arl.WarmPool) {
			securityOf(executorOf(p)).Capabilities = &corev1.Capabilities{Add: []corev1.Capability{"CHOWN", "SYS_ADMIN", "cap_net_admin", "NET_RAW"}}
		}, want: []string{
			"FieldValueForbidden spec.template.spec.containers[0].securityContext.capabilities.add[1]",
			"FieldValueForbidden spec.template.spec.containers[0].securityContext.capabilities.add[2]",
			"FieldValueForbidden spec.template.spec.containers[0].securityContext.capabilities.add[3]",
		}},
		{name: "unconfined seccomp and AppArmor", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{
				SeccompProfile:  &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined},
				AppArmorProfile: &corev1.AppArmorProfile{Type: corev1.AppArmorProfileTypeUnconfined},
			}
			securityOf(executorOf(p)).SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeUnconfined}
		}, want: []string{
			"FieldValueForbidden spec.template.spec.securityContext.seccompProfile.type",
			"FieldValueForbidden spec.template.spec.securityContext.appArmorProfile.type",
			"FieldValueForbidden spec.template.spec.containers[0].securityContext.seccompProfile.type",
		}},
		{name: "unmasked /proc", mutate: func(p *arl.WarmPool) { securityOf(executorOf(p)).ProcMount = ptr.To(corev1.UnmaskedProcMount) },
			want: []string{"FieldValueForbidden spec.template.spec.containers[0].securityContext.procMount"}},
		{name: "host port", mutate: func(p *arl.WarmPool) {
			executorOf(p).Ports = []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 80, HostPort: 80}}
		}, want: []string{"FieldValueForbidden spec.template.spec.containers[0].ports[1].hostPort"}},
		{name: "narrowing is fine", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("agents.json")}}
			*securityOf(executorOf(p)) = corev1.SecurityContext{
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE", "CAP_CHOWN"}},
				AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true), Privileged: ptr.To(false),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			}
			p.Spec.Template.Spec.RuntimeClassName = ptr.To("gvisor")
			p.Spec.Template.Spec.HostUsers = ptr.To(false)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool := validPool()
			tc.mutate(pool)
			errs := ValidateWarmPool(pool, WarmPoolOptions{})
			if diff := cmp.Diff(tc.want, errorsOf(errs)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			for _, err := range errs {
				if !strings.Contains(err.Detail, "--privileged-pool-namespaces") {
					t.Errorf("%s: the detail %q does not say how to allow it", err.Field, err.Detail)
				}
			}
			if errs := ValidateWarmPool(pool, WarmPoolOptions{AllowPrivileged: true}); len(errs) != 0 {
				t.Errorf("allowed namespace: %v", errs)
			}
			// An update is checked as a create: a namespace that lost the
			// flag cannot keep changing its privileged pool.
			old := validPool()
			old.ResourceVersion, pool.ResourceVersion = "1", "1"
			if diff := cmp.Diff(tc.want, errorsOf(ValidateWarmPoolUpdate(pool, old, WarmPoolOptions{}))); diff != "" {
				t.Errorf("update errors (-want +got):\n%s", diff)
			}
		})
	}
}

// TestARLsOwnNamesAreReserved: a template cannot take the names of what ARL
// injects, nor hand ARL's key Secrets to its containers, in any namespace.
func TestARLsOwnNamesAreReserved(t *testing.T) {
	secretVolume := func(name string) corev1.Volume {
		return corev1.Volume{Name: "keys", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: name}}}
	}
	tests := []struct {
		name   string
		mutate func(*arl.WarmPool)
		want   []string
	}{
		{name: "init container named arl-install", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: arl.InstallContainerName, Image: "x"}}
		}, want: []string{"FieldValueInvalid spec.template.spec.initContainers[0].name"}},
		{name: "init container named like a container", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: arl.ExecutorContainerName, Image: "x"}}
		}, want: []string{"FieldValueDuplicate spec.template.spec.containers[0].name"}},
		{name: "volumes named arl and arl-sidecar-tls", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Volumes = []corev1.Volume{
				{Name: "arl", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "arl-sidecar-tls", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			}
		}, want: []string{"FieldValueInvalid spec.template.spec.volumes[0].name", "FieldValueInvalid spec.template.spec.volumes[1].name"}},
		{name: "the sidecar's TLS Secret as a volume", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Volumes = []corev1.Volume{secretVolume("arl-sidecar-tls")}
		}, want: []string{"FieldValueForbidden spec.template.spec.volumes[0].secret.secretName"}},
		{name: "the CA Secret in a projected volume", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "keys", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
				Sources: []corev1.VolumeProjection{
					{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}},
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "arl-sidecar-ca"}}},
				}}}}}
		}, want: []string{"FieldValueForbidden spec.template.spec.volumes[0].projected.sources[1].secret.name"}},
		{name: "ARL's Secrets in env and envFrom", mutate: func(p *arl.WarmPool) {
			c := executorOf(p)
			c.Env = []corev1.EnvVar{{Name: "OK", Value: "1"}, {Name: "KEY", ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "arl-sidecar-tls"}, Key: "tls.key"}}}}
			c.EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "arl-sidecar-ca"}}}}
		}, want: []string{
			"FieldValueForbidden spec.template.spec.containers[0].env[1].valueFrom.secretKeyRef.name",
			"FieldValueForbidden spec.template.spec.containers[0].envFrom[0].secretRef.name",
		}},
		{name: "the user's own Secret is fine", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Volumes = []corev1.Volume{secretVolume("pip-conf")}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool := validPool()
			tc.mutate(pool)
			if diff := cmp.Diff(tc.want, errorsOf(ValidateWarmPool(pool, WarmPoolOptions{AllowPrivileged: true}))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidatePoolNetwork(t *testing.T) {
	egress := func(mode arl.EgressMode, rules ...arl.EgressRule) func(*arl.WarmPool) {
		return func(p *arl.WarmPool) { p.Spec.Network.Egress = arl.PoolEgress{Mode: mode, Allow: rules} }
	}
	cidr := func(c string, ports ...arl.EgressPort) arl.EgressRule { return arl.EgressRule{CIDR: c, Ports: ports} }
	name := func(n string) arl.EgressRule { return arl.EgressRule{DNSName: n} }
	tcp := func(port int32) arl.EgressPort { return arl.EgressPort{Protocol: corev1.ProtocolTCP, Port: port} }
	many := func(n int, rule func(i int) arl.EgressRule) []arl.EgressRule {
		var out []arl.EgressRule
		for i := 0; i < n; i++ {
			out = append(out, rule(i))
		}
		return out
	}
	tests := []struct {
		name   string
		mutate func(*arl.WarmPool)
		want   []string
	}{
		{name: "Internet with an allow list", mutate: egress(arl.EgressInternet, cidr("10.20.0.0/16", tcp(3128)), name("pypi.org"))},
		{name: "AllowList of CIDRs, names and port ranges", mutate: egress(arl.EgressAllowList,
			cidr("203.0.113.0/24"), cidr("2001:db8::/32"), name("files.pythonhosted.org"),
			cidr("198.51.100.7/32", arl.EgressPort{Protocol: corev1.ProtocolUDP, Port: 30000, EndPort: ptr.To[int32](30100)}))},
		{name: "DenyAll", mutate: egress(arl.EgressDenyAll)},
		{name: "unknown mode", mutate: egress("Open"), want: []string{"FieldValueNotSupported spec.network.egress.mode"}},
		{name: "DenyAll with an allow list", mutate: egress(arl.EgressDenyAll, cidr("203.0.113.0/24")),
			want: []string{"FieldValueForbidden spec.network.egress.allow"}},
		{name: "a rule with both or neither", mutate: egress(arl.EgressAllowList, arl.EgressRule{CIDR: "203.0.113.0/24", DNSName: "pypi.org"}, arl.EgressRule{}),
			want: []string{"FieldValueForbidden spec.network.egress.allow[0].dnsName", "FieldValueRequired spec.network.egress.allow[1]"}},
		{name: "bad and non-canonical CIDRs", mutate: egress(arl.EgressAllowList, cidr("203.0.113.7/24"), cidr("10.0.0.0"), cidr("2001:DB8::/32")),
			want: []string{"FieldValueInvalid spec.network.egress.allow[0].cidr", "FieldValueInvalid spec.network.egress.allow[1].cidr", "FieldValueInvalid spec.network.egress.allow[2].cidr"}},
		{name: "bad DNS names", mutate: egress(arl.EgressAllowList, name("PyPI.org"), name("203.0.113.7"), name("mirror"), name("*.pythonhosted.org")),
			want: []string{"FieldValueInvalid spec.network.egress.allow[0].dnsName", "FieldValueInvalid spec.network.egress.allow[1].dnsName",
				"FieldValueInvalid spec.network.egress.allow[2].dnsName", "FieldValueInvalid spec.network.egress.allow[3].dnsName"}},
		{name: "bad ports", mutate: egress(arl.EgressAllowList, cidr("203.0.113.0/24",
			arl.EgressPort{Protocol: "ICMP", Port: 1}, tcp(0), tcp(70000), arl.EgressPort{Protocol: corev1.ProtocolTCP, Port: 100, EndPort: ptr.To[int32](99)})),
			want: []string{"FieldValueNotSupported spec.network.egress.allow[0].ports[0].protocol", "FieldValueInvalid spec.network.egress.allow[0].ports[1].port",
				"FieldValueInvalid spec.network.egress.allow[0].ports[2].port", "FieldValueInvalid spec.network.egress.allow[0].ports[3].endPort"}},
		{name: "too many rules", mutate: egress(arl.EgressAllowList, many(MaxEgressRules+1, func(i int) arl.EgressRule {
			return cidr(fmt.Sprintf("203.0.%d.0/24", i))
		})...), want: []string{"FieldValueTooMany spec.network.egress.allow"}},
		{name: "too many DNS names", mutate: egress(arl.EgressAllowList, many(MaxEgressDNSNames+1, func(i int) arl.EgressRule {
			return name(fmt.Sprintf("mirror-%d.example.com", i))
		})...), want: []string{"FieldValueInvalid spec.network.egress.allow"}},
		{name: "too many ports", mutate: egress(arl.EgressAllowList, cidr("203.0.113.0/24", make([]arl.EgressPort, MaxEgressPorts+1)...)),
			want: []string{"FieldValueTooMany spec.network.egress.allow[0].ports"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool := validPool()
			tc.mutate(pool)
			if diff := cmp.Diff(tc.want, errorsOf(ValidateWarmPool(pool, WarmPoolOptions{}))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWarningsForPoolNetwork(t *testing.T) {
	network := &arl.PoolNetwork{Egress: arl.PoolEgress{Mode: arl.EgressAllowList, Allow: []arl.EgressRule{
		{CIDR: "203.0.113.0/24"}, {CIDR: "0.0.0.0/0"}, {DNSName: "pypi.org"}, {CIDR: "fd00::/8"}, {CIDR: "169.254.169.254/32"},
	}}}
	warnings := WarningsForPoolNetwork(network, field.NewPath("spec", "network"))
	want := []string{"spec.network.egress.allow[1].cidr", "spec.network.egress.allow[3].cidr", "spec.network.egress.allow[4].cidr"}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %q, want one for each of %v", warnings, want)
	}
	for i, w := range warnings {
		if !strings.HasPrefix(w, want[i]+":") || !strings.Contains(w, "metadata") {
			t.Errorf("warning %d: %q, want one about %s and the metadata endpoint", i, w, want[i])
		}
	}
}

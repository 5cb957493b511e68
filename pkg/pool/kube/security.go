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
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// arlUID is the uid and gid ARL's own containers (arl-install, sidecar)
// run as: not root, and not a uid images use for their files (it is
// distroless' "nonroot"). The agent's socket is world-writable (0666) so
// that the sidecar can reach an agent of any uid.
const arlUID = 65532

// droppedCapabilities are taken from the template's containers unless
// they add them back or drop ALL. The rest of the container runtime's
// default set stays: the manual's images run as root and install packages,
// and apt, dpkg and pip need CHOWN, DAC_OVERRIDE, FOWNER, FSETID, SETUID and
// SETGID (apt downloads as _apt; dpkg sets owners and modes). What goes is
// what code in a sandbox has no use for but an attacker does: raw sockets
// (spoofing on the pod network), device nodes, file capabilities (the
// ingredient of privilege gains through setcap'd binaries) and writing the
// node's audit log.
var droppedCapabilities = []corev1.Capability{"NET_RAW", "MKNOD", "SETFCAP", "AUDIT_WRITE"}

// arlContainerSecurity is the security context of ARL's own containers:
// non-root, read-only root filesystem, no capabilities, no privilege
// gains, the runtime's default seccomp profile. Whatever the template's
// pod-level settings, these win (container settings override the pod's).
func arlContainerSecurity() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		RunAsUser:                ptr.To[int64](arlUID),
		RunAsGroup:               ptr.To[int64](arlUID),
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// secureDefaults fills in, for the template's pod and containers, what the
// template left unset: the runtime's default seccomp profile for the pod,
// no privilege escalation (setuid binaries and file capabilities gain
// nothing) and droppedCapabilities for each container. What the template
// says stays: validation already refused what it may not ask for.
func secureDefaults(spec *corev1.PodSpec) {
	if spec.OS != nil && spec.OS.Name == corev1.Windows {
		return
	}
	if spec.SecurityContext == nil {
		spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if spec.SecurityContext.SeccompProfile == nil {
		spec.SecurityContext.SeccompProfile = &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
	}
	for i := range spec.InitContainers {
		secureContainerDefaults(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		secureContainerDefaults(&spec.Containers[i])
	}
}

func secureContainerDefaults(c *corev1.Container) {
	if c.SecurityContext == nil {
		c.SecurityContext = &corev1.SecurityContext{}
	}
	sc := c.SecurityContext
	if sc.Privileged != nil && *sc.Privileged {
		// A privileged container has every capability whatever the lists
		// say, and Kubernetes refuses allowPrivilegeEscalation false with it.
		return
	}
	if sc.Capabilities == nil {
		sc.Capabilities = &corev1.Capabilities{}
	}
	caps := sc.Capabilities
	// Kubernetes refuses allowPrivilegeEscalation false with CAP_SYS_ADMIN.
	if sc.AllowPrivilegeEscalation == nil && !hasCapability(caps.Add, "SYS_ADMIN") {
		sc.AllowPrivilegeEscalation = ptr.To(false)
	}
	if hasCapability(caps.Drop, "ALL") {
		return
	}
	for _, dropped := range droppedCapabilities {
		if !hasCapability(caps.Add, dropped) && !hasCapability(caps.Drop, dropped) {
			caps.Drop = append(caps.Drop, dropped)
		}
	}
}

// hasCapability says whether list names capability, with or without the
// "CAP_" prefix (container runtimes accept both).
func hasCapability(list []corev1.Capability, capability corev1.Capability) bool {
	return slices.ContainsFunc(list, func(c corev1.Capability) bool {
		return strings.TrimPrefix(strings.ToUpper(string(c)), "CAP_") == string(capability)
	})
}

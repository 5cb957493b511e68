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
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// WarmPoolOptions say what a WarmPool may ask for beyond the defaults.
type WarmPoolOptions struct {
	// AllowPrivileged lets the pool's template ask for what reaches past
	// the pod's own sandbox (see ValidatePodTemplatePrivileges). arl-apiserver
	// sets it for the namespaces of --privileged-pool-namespaces.
	AllowPrivileged bool
}

// allowedCapabilities may be added without AllowPrivileged: the container
// runtime's default set, as Pod Security's "baseline" level allows. A
// template that drops ALL and adds back NET_BIND_SERVICE asks for less.
var allowedCapabilities = sets.New[corev1.Capability](
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
)

const privilegedHint = "refused for pools outside arl-apiserver's --privileged-pool-namespaces"

// ValidatePodTemplatePrivileges refuses, with the field path of each, what
// would let a sandbox's code reach past its pod: the node's network, PID
// or IPC namespace, hostPath volumes, host ports, privileged containers,
// capabilities beyond the runtime's defaults, unconfined seccomp or
// AppArmor, an unmasked /proc, and a process namespace shared with ARL's
// sidecar (its /proc/<pid>/root holds the sidecar's TLS key). The checks
// follow Pod Security's "baseline" level, which pool pods must pass too
// where the namespace enforces it.
func ValidatePodTemplatePrivileges(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	forbid := func(path *field.Path, what string) {
		allErrs = append(allErrs, field.Forbidden(path, what+" is "+privilegedHint))
	}
	if spec.HostNetwork {
		forbid(fldPath.Child("hostNetwork"), "the node's network namespace")
	}
	if spec.HostPID {
		forbid(fldPath.Child("hostPID"), "the node's PID namespace")
	}
	if spec.HostIPC {
		forbid(fldPath.Child("hostIPC"), "the node's IPC namespace")
	}
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace {
		forbid(fldPath.Child("shareProcessNamespace"), "a process namespace shared with ARL's sidecar (its files are in /proc/<pid>/root)")
	}
	if sc := spec.SecurityContext; sc != nil {
		scPath := fldPath.Child("securityContext")
		if sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
			forbid(scPath.Child("seccompProfile", "type"), "an unconfined seccomp profile")
		}
		if sc.AppArmorProfile != nil && sc.AppArmorProfile.Type == corev1.AppArmorProfileTypeUnconfined {
			forbid(scPath.Child("appArmorProfile", "type"), "an unconfined AppArmor profile")
		}
	}
	for i, v := range spec.Volumes {
		if v.HostPath != nil {
			forbid(fldPath.Child("volumes").Index(i).Child("hostPath"), "a hostPath volume")
		}
	}
	checkContainers := func(containers []corev1.Container, path *field.Path) {
		for i := range containers {
			c := &containers[i]
			cPath := path.Index(i)
			for j, p := range c.Ports {
				if p.HostPort != 0 {
					forbid(cPath.Child("ports").Index(j).Child("hostPort"), "a host port")
				}
			}
			sc := c.SecurityContext
			if sc == nil {
				continue
			}
			scPath := cPath.Child("securityContext")
			if sc.Privileged != nil && *sc.Privileged {
				forbid(scPath.Child("privileged"), "a privileged container")
			}
			if sc.Capabilities != nil {
				for j, capability := range sc.Capabilities.Add {
					if !allowedCapabilities.Has(corev1.Capability(strings.TrimPrefix(strings.ToUpper(string(capability)), "CAP_"))) {
						forbid(scPath.Child("capabilities", "add").Index(j), "capability "+string(capability))
					}
				}
			}
			if sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
				forbid(scPath.Child("seccompProfile", "type"), "an unconfined seccomp profile")
			}
			if sc.AppArmorProfile != nil && sc.AppArmorProfile.Type == corev1.AppArmorProfileTypeUnconfined {
				forbid(scPath.Child("appArmorProfile", "type"), "an unconfined AppArmor profile")
			}
			if sc.ProcMount != nil && *sc.ProcMount == corev1.UnmaskedProcMount {
				forbid(scPath.Child("procMount"), "an unmasked /proc")
			}
		}
	}
	checkContainers(spec.InitContainers, fldPath.Child("initContainers"))
	checkContainers(spec.Containers, fldPath.Child("containers"))
	return allErrs
}

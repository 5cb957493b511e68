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
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
)

// manualPool is the manual's python-pool.
func manualPool() *arlv1alpha1.WarmPool {
	return &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool", Namespace: "default"},
		Spec: arlv1alpha1.WarmPoolSpec{
			Replicas: ptr.To[int32](3),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: arl.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"},
					VolumeMounts: []corev1.VolumeMount{{Name: "workspace", MountPath: "/workspace"}}}},
				Volumes: []corev1.Volume{{Name: "workspace", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
			}},
		},
	}
}

func containerNamed(t *testing.T, containers []corev1.Container, name string) *corev1.Container {
	t.Helper()
	for i := range containers {
		if containers[i].Name == name {
			return &containers[i]
		}
	}
	t.Fatalf("no container %q in %d containers", name, len(containers))
	return nil
}

// defaultDrops is what the executor loses when its template says nothing.
var defaultDrops = []corev1.Capability{"NET_RAW", "MKNOD", "SETFCAP", "AUDIT_WRITE"}

// TestBuildPodSecureDefaults: where the template says nothing, pool pods
// get the runtime's seccomp profile, no privilege escalation and fewer
// capabilities (but keep root and what package managers need); what the
// template says stays; ARL's own containers are non-root, read-only, with
// no capabilities, whatever the template's pod-level settings.
func TestBuildPodSecureDefaults(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*arlv1alpha1.WarmPool)
		executor *corev1.SecurityContext
		podLevel *corev1.PodSecurityContext
	}{
		{
			name:     "the manual's pool: defaults",
			executor: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: defaultDrops}},
		},
		{
			name: "drop ALL stays as it is",
			mutate: func(p *arlv1alpha1.WarmPool) {
				p.Spec.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}}}
			},
			executor: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
				Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}, Add: []corev1.Capability{"NET_BIND_SERVICE"}}},
		},
		{
			name: "a capability the template adds is not dropped, in either spelling",
			mutate: func(p *arlv1alpha1.WarmPool) {
				p.Spec.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"CAP_NET_RAW", "MKNOD"}, Drop: []corev1.Capability{"KILL"}}}
			},
			executor: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
				Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"CAP_NET_RAW", "MKNOD"}, Drop: []corev1.Capability{"KILL", "SETFCAP", "AUDIT_WRITE"}}},
		},
		{
			name: "explicit settings stay",
			mutate: func(p *arlv1alpha1.WarmPool) {
				p.Spec.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true), RunAsUser: ptr.To[int64](1000)}
				p.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{
					SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("agents.json")}}
			},
			executor: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true), RunAsUser: ptr.To[int64](1000),
				Capabilities: &corev1.Capabilities{Drop: defaultDrops}},
			podLevel: &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost, LocalhostProfile: ptr.To("agents.json")}},
		},
		{
			// Only a namespace of --privileged-pool-namespaces gets here;
			// Kubernetes refuses allowPrivilegeEscalation false with these.
			name: "privileged stays untouched",
			mutate: func(p *arlv1alpha1.WarmPool) {
				p.Spec.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{Privileged: ptr.To(true)}
			},
			executor: &corev1.SecurityContext{Privileged: ptr.To(true)},
		},
		{
			name: "SYS_ADMIN keeps privilege escalation unset",
			mutate: func(p *arlv1alpha1.WarmPool) {
				p.Spec.Template.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{
					Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}}}
			},
			executor: &corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: []corev1.Capability{"SYS_ADMIN"}, Drop: defaultDrops}},
		},
		{
			name: "pod-level runAsUser does not reach ARL's containers",
			mutate: func(p *arlv1alpha1.WarmPool) {
				p.Spec.Template.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0), RunAsNonRoot: ptr.To(false)}
			},
			executor: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: defaultDrops}},
			podLevel: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0), RunAsNonRoot: ptr.To(false),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := manualPool()
			if tc.mutate != nil {
				tc.mutate(p)
			}
			template := p.Spec.Template.DeepCopy()
			pod := buildPod(p, "arl-sidecar:test", "hash")
			if !apiequality.Semantic.DeepEqual(template, &p.Spec.Template) {
				t.Errorf("buildPod changed the pool's template")
			}
			if diff := cmp.Diff(tc.executor, containerNamed(t, pod.Spec.Containers, arl.ExecutorContainerName).SecurityContext); diff != "" {
				t.Errorf("executor security context (-want +got):\n%s", diff)
			}
			podLevel := tc.podLevel
			if podLevel == nil {
				podLevel = &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
			}
			if diff := cmp.Diff(podLevel, pod.Spec.SecurityContext); diff != "" {
				t.Errorf("pod security context (-want +got):\n%s", diff)
			}
			for _, c := range []*corev1.Container{containerNamed(t, pod.Spec.Containers, arl.SidecarContainerName), containerNamed(t, pod.Spec.InitContainers, arl.InstallContainerName)} {
				if diff := cmp.Diff(arlContainerSecurity(), c.SecurityContext); diff != "" {
					t.Errorf("%s security context (-want +got):\n%s", c.Name, diff)
				}
			}
			if pod.Spec.AutomountServiceAccountToken == nil || *pod.Spec.AutomountServiceAccountToken {
				t.Errorf("automountServiceAccountToken %v, want false", pod.Spec.AutomountServiceAccountToken)
			}
		})
	}
}

// TestBuildPodARLContainersAreLockedDown spells out what ARL's containers
// run as, so a change to arlContainerSecurity is a visible decision.
func TestBuildPodARLContainersAreLockedDown(t *testing.T) {
	sc := arlContainerSecurity()
	if *sc.RunAsUser == 0 || !*sc.RunAsNonRoot || *sc.AllowPrivilegeEscalation || !*sc.ReadOnlyRootFilesystem ||
		!cmp.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault || sc.Privileged != nil {
		t.Errorf("ARL's containers: %+v", sc)
	}
}

// TestBuildPodAppliesDefaultsToEveryTemplateContainer: helpers and the
// template's init containers get the defaults too, not the executor only.
func TestBuildPodAppliesDefaultsToEveryTemplateContainer(t *testing.T) {
	p := manualPool()
	p.Spec.Template.Spec.Containers = append(p.Spec.Template.Spec.Containers, corev1.Container{Name: "helper", Image: "busybox"})
	p.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: "fetch", Image: "busybox"}}
	pod := buildPod(p, "arl-sidecar:test", "hash")
	want := &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: defaultDrops}}
	for _, c := range []*corev1.Container{containerNamed(t, pod.Spec.Containers, "helper"), containerNamed(t, pod.Spec.InitContainers, "fetch")} {
		if diff := cmp.Diff(want, c.SecurityContext); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.Name, diff)
		}
	}
	// arl-install runs first: the agent must exist before any container of the template.
	if pod.Spec.InitContainers[0].Name != arl.InstallContainerName {
		t.Errorf("init containers %v: %s must come first", pod.Spec.InitContainers, arl.InstallContainerName)
	}
}

// TestBuildPodPassesRuntimeClassThrough: a sandboxing runtime (gVisor,
// Kata) and a user namespace are the template's to choose.
func TestBuildPodPassesRuntimeClassThrough(t *testing.T) {
	p := manualPool()
	p.Spec.Template.Spec.RuntimeClassName = ptr.To("gvisor")
	p.Spec.Template.Spec.HostUsers = ptr.To(false)
	pod := buildPod(p, "arl-sidecar:test", "hash")
	if pod.Spec.RuntimeClassName == nil || *pod.Spec.RuntimeClassName != "gvisor" || pod.Spec.HostUsers == nil || *pod.Spec.HostUsers {
		t.Errorf("runtimeClassName %v hostUsers %v, want gvisor and false", pod.Spec.RuntimeClassName, pod.Spec.HostUsers)
	}
}

// TestBuildPodKeepsKeysFromTheExecutor: only the sidecar mounts the TLS
// Secret; the executor shares nothing with it but the agent's volume.
func TestBuildPodKeepsKeysFromTheExecutor(t *testing.T) {
	pod := buildPod(manualPool(), "arl-sidecar:test", "hash")
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, m := range c.VolumeMounts {
			if m.Name == tlsVolume && c.Name != arl.SidecarContainerName {
				t.Errorf("container %s mounts the sidecar's TLS Secret", c.Name)
			}
		}
		if c.Name == arl.ExecutorContainerName {
			var mounts []string
			for _, m := range c.VolumeMounts {
				mounts = append(mounts, m.Name+":"+m.MountPath)
			}
			if diff := cmp.Diff([]string{"workspace:/workspace", "arl:/.arl"}, mounts); diff != "" {
				t.Errorf("executor mounts (-want +got):\n%s", diff)
			}
		}
	}
	if pod.Spec.ShareProcessNamespace != nil {
		t.Errorf("shareProcessNamespace %v, want unset", *pod.Spec.ShareProcessNamespace)
	}
}

// TestInjectedNamesAreReserved: validation refuses templates that take
// the names of what buildPod injects, or mount ARL's Secrets.
func TestInjectedNamesAreReserved(t *testing.T) {
	for _, name := range []string{arl.SidecarContainerName, arl.InstallContainerName} {
		if !validation.ReservedContainerNames.Has(name) {
			t.Errorf("container %q is not reserved", name)
		}
	}
	for _, name := range []string{arlVolume, tlsVolume, "arl-workspace"} {
		if !validation.ReservedVolumeNames.Has(name) {
			t.Errorf("volume %q is not reserved", name)
		}
	}
	for _, name := range []string{TLSSecret, CASecret} {
		if !validation.ReservedSecretNames.Has(name) {
			t.Errorf("Secret %q is not reserved", name)
		}
	}
}

// manualSDKPool is the pool the manual's SDK (WarmPoolManager.create_warmpool)
// makes: the executor plus a sidecar container of its own.
func manualSDKPool() *arlv1alpha1.WarmPool {
	p := manualPool()
	p.Spec.Template.Spec.Containers = append(p.Spec.Template.Spec.Containers, corev1.Container{
		Name: arl.SidecarContainerName, Image: "arl-sidecar:manual", ImagePullPolicy: corev1.PullAlways,
		Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "grpc", ContainerPort: 9090}},
		VolumeMounts: []corev1.VolumeMount{{Name: "workspace", MountPath: "/workspace"}},
	})
	return p
}

// TestBuildPodReplacesTheTemplatesSidecar: ARL's sidecar takes the place of
// the template's own, of which nothing runs; the pool keeps the template
// as the user wrote it.
func TestBuildPodReplacesTheTemplatesSidecar(t *testing.T) {
	p := manualSDKPool()
	before := p.DeepCopy()
	pod := buildPod(p, "arl-sidecar:test", "hash")

	var names []string
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{arl.ExecutorContainerName, arl.SidecarContainerName}, names); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
	sidecar := containerNamed(t, pod.Spec.Containers, arl.SidecarContainerName)
	if sidecar.Image != "arl-sidecar:test" || len(sidecar.Ports) != 1 || sidecar.Ports[0].ContainerPort != SidecarPort {
		t.Errorf("sidecar image %q ports %v, want ARL's (arl-sidecar:test, %d)", sidecar.Image, sidecar.Ports, SidecarPort)
	}
	if !apiequality.Semantic.DeepEqual(before, p) {
		t.Errorf("buildPod changed the pool's template")
	}
}

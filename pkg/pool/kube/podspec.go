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
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool"
)

// What ARL injects into every pool pod.
const (
	// SidecarPort is where the sidecar container (arl.SidecarContainerName)
	// serves the AgentService (mTLS).
	SidecarPort = 50051
	HealthPort  = 50052
	// TLSSecret (per namespace) holds the sidecars' serving certificate and
	// the CA of allowed callers; only the sidecar container mounts it.
	TLSSecret = "arl-sidecar-tls"
	// AnnotationClaimedAt is when the pod was bound (RFC 3339).
	AnnotationClaimedAt = "arl.infra.io/claimed-at"

	arlVolume       = "arl"
	arlMount        = "/.arl"
	agentBinary     = "/.arl/bin/arl-sidecar"
	agentSocket     = "/.arl/run/agent.sock"
	tlsVolume       = "arl-sidecar-tls"
	tlsMount        = "/var/run/arl/tls"
	workspaceVolume = "workspace"
	workspaceMount  = "/workspace"
	// sidecarBinary is where the arl-sidecar image keeps the binary.
	sidecarBinary = "/usr/local/bin/arl-sidecar"
	// startupProbeFailures lets an agent take 5 minutes to answer (the
	// pool's default --pod-ready-timeout) before the kubelet restarts it.
	startupProbeFailures = 300
)

// buildPod makes a pool pod from the pool's template and what ARL injects:
// the install init container, the sidecar container (in place of the
// template's own container of that name, if any), the agent wrapping
// the executor's command, a workspace volume when the executor has none at
// /workspace, labels, no service account token, and secure defaults where
// the template says nothing (security.go).
func buildPod(p *arlv1alpha1.WarmPool, sidecarImage, templateHash string) *corev1.Pod {
	template := p.Spec.Template.DeepCopy()
	pod := &corev1.Pod{
		ObjectMeta: *template.ObjectMeta.DeepCopy(),
		Spec:       template.Spec,
	}
	pod.Name = ""
	pod.GenerateName = p.Name + "-"
	pod.Namespace = p.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[arl.LabelPool] = p.Name
	pod.Labels[arl.LabelState] = string(pool.PodIdle)
	pod.Labels[arl.LabelTemplateHash] = templateHash

	spec := &pod.Spec
	arl.WithoutUserSidecar(spec)
	// The sandbox's code must not act as the pod's service account.
	spec.AutomountServiceAccountToken = ptr.To(false)
	if spec.EnableServiceLinks == nil {
		spec.EnableServiceLinks = ptr.To(false)
	}
	// A sandbox whose processes died is broken, not to be restarted empty:
	// the pod fails and the pool replaces it.
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = corev1.RestartPolicyNever
	}

	secureDefaults(spec)

	arlMountSpec := corev1.VolumeMount{Name: arlVolume, MountPath: arlMount}
	spec.Volumes = append(spec.Volumes,
		corev1.Volume{Name: arlVolume, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		corev1.Volume{Name: tlsVolume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: TLSSecret}}},
	)

	executor := arl.ExecutorContainer(spec)
	if !mountsAt(executor, workspaceMount) {
		name := workspaceVolume
		if hasVolume(spec, name) {
			name = "arl-workspace"
		}
		spec.Volumes = append(spec.Volumes, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
		executor.VolumeMounts = append(executor.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: workspaceMount})
	}
	executor.VolumeMounts = append(executor.VolumeMounts, arlMountSpec)
	original := append(append([]string{}, executor.Command...), executor.Args...)
	executor.Command = append([]string{agentBinary, "agent",
		"--socket", agentSocket, "--socket-mode", "0666", "--workspace", workspaceMount}, prefixed("--", original)...)
	executor.Args = nil

	// The install container copies arl-sidecar into the shared volume before
	// the executor starts, so the agent runs inside the user's image.
	spec.InitContainers = append([]corev1.Container{{
		Name:            arl.InstallContainerName,
		Image:           sidecarImage,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         []string{sidecarBinary, "install", "--dest", agentBinary},
		VolumeMounts:    []corev1.VolumeMount{arlMountSpec},
		SecurityContext: arlContainerSecurity(),
	}}, spec.InitContainers...)
	spec.Containers = append(spec.Containers, corev1.Container{
		Name:            arl.SidecarContainerName,
		Image:           sidecarImage,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command: []string{sidecarBinary, "serve",
			"--listen", ":50051",
			"--agent-socket", agentSocket,
			"--tls-cert-file", tlsMount + "/tls.crt",
			"--tls-key-file", tlsMount + "/tls.key",
			"--client-ca-file", tlsMount + "/ca.crt",
			"--health-listen", ":50052",
		},
		Ports: []corev1.ContainerPort{{Name: "agent", ContainerPort: SidecarPort, Protocol: corev1.ProtocolTCP}},
		// A memory request without a limit: every pool pod is Burstable,
		// whatever its template says, so a Sandbox's resources can resize
		// the executor in place (a resize may not change a pod's QoS
		// class). No CPU request: on a small node, pool pods' CPU requests
		// would cap the pods the scheduler places there.
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceMemory: resource.MustParse("16Mi")}},
		// Ready means the agent in the executor answers, checked through the
		// sidecar's plaintext health port (kubelet probes cannot do mTLS).
		// The startup probe asks every second, so a new pod is Ready within
		// a second of its agent (the kubelet runs the readiness probe at
		// once when the startup probe passes); after that an idle pod is
		// asked every 10 s, not every second: on a node of warm pools the
		// kubelet's probes were its largest steady cost, and each probe
		// timing out on a busy node was a Warning Event and a status write.
		// A container that exits is noticed at once without any probe.
		StartupProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: HealthPort}},
			PeriodSeconds:    1,
			FailureThreshold: startupProbeFailures,
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: HealthPort}},
			PeriodSeconds:    10,
			TimeoutSeconds:   3,
			FailureThreshold: 3,
		},
		VolumeMounts:    []corev1.VolumeMount{arlMountSpec, {Name: tlsVolume, MountPath: tlsMount, ReadOnly: true}},
		SecurityContext: arlContainerSecurity(),
	})
	return pod
}

func prefixed(sep string, args []string) []string {
	if len(args) == 0 {
		return nil
	}
	return append([]string{sep}, args...)
}

func mountsAt(c *corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if strings.TrimSuffix(m.MountPath, "/") == path {
			return true
		}
	}
	return false
}

func hasVolume(spec *corev1.PodSpec, name string) bool {
	for _, v := range spec.Volumes {
		if v.Name == name {
			return true
		}
	}
	return false
}

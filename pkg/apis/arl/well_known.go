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

package arl

import corev1 "k8s.io/api/core/v1"

// LabelPrefix marks the pod labels ARL manages itself; a WarmPool's
// template may set none.
const LabelPrefix = "arl.infra.io/"

// Labels ARL sets on every pool pod: pods are the pool's source of truth.
const (
	// LabelPool names the WarmPool the pod belongs to.
	LabelPool = LabelPrefix + "pool"
	// LabelState is PodStateIdle or PodStateAllocated.
	LabelState = LabelPrefix + "state"
	// LabelSandbox names the Sandbox an allocated pod is bound to.
	LabelSandbox = LabelPrefix + "sandbox"
	// LabelTemplateHash identifies the template the pod was made from.
	LabelTemplateHash = LabelPrefix + "template-hash"
)

// Values of LabelState.
const (
	// PodStateIdle waits in its pool for a Sandbox.
	PodStateIdle = "idle"
	// PodStateAllocated is bound to the Sandbox named by LabelSandbox.
	PodStateAllocated = "allocated"
)

// IdlePodSelector selects a pool's idle pods: the selector of its status
// and of its scale subresource.
func IdlePodSelector(pool string) string {
	return LabelPool + "=" + pool + "," + LabelState + "=" + PodStateIdle
}

// Containers of a pool pod.
const (
	// ExecutorContainerName names the container Tasks run in; without one,
	// the first container is the executor (see ExecutorContainerIndex).
	ExecutorContainerName = "executor"
	// SidecarContainerName is the container ARL injects to serve the
	// AgentService. A template's container of that name (the manual's pools
	// carry one for their own sidecar) is replaced by ARL's: nothing of it
	// runs (see WithoutUserSidecar).
	SidecarContainerName = "sidecar"
	// InstallContainerName is the init container ARL injects to install the
	// agent; a template may not use the name.
	InstallContainerName = "arl-install"
)

// ExecutorContainerIndex is the index of the container Tasks run in: the
// one named ExecutorContainerName, else the first that is not named
// SidecarContainerName; -1 when there is none.
func ExecutorContainerIndex(spec *corev1.PodSpec) int {
	for i := range spec.Containers {
		if spec.Containers[i].Name == ExecutorContainerName {
			return i
		}
	}
	for i := range spec.Containers {
		if spec.Containers[i].Name != SidecarContainerName {
			return i
		}
	}
	return -1
}

// ExecutorContainer is the container Tasks run in (see
// ExecutorContainerIndex); nil when there is none.
func ExecutorContainer(spec *corev1.PodSpec) *corev1.Container {
	if i := ExecutorContainerIndex(spec); i >= 0 {
		return &spec.Containers[i]
	}
	return nil
}

// UserSidecarIndex is the index of the template's container named
// SidecarContainerName, which ARL's sidecar replaces; -1 when there is none.
func UserSidecarIndex(spec *corev1.PodSpec) int {
	for i := range spec.Containers {
		if spec.Containers[i].Name == SidecarContainerName {
			return i
		}
	}
	return -1
}

// WithoutUserSidecar drops the template's container named
// SidecarContainerName from spec: ARL's sidecar takes its place.
func WithoutUserSidecar(spec *corev1.PodSpec) {
	if i := UserSidecarIndex(spec); i >= 0 {
		spec.Containers = append(spec.Containers[:i:i], spec.Containers[i+1:]...)
	}
}

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

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The names pods and clients already carry: changing one strands the pods
// of running servers, and the scripts and selectors of users.
func TestWellKnownNamesAreStable(t *testing.T) {
	for got, want := range map[string]string{
		LabelPool:             "arl.infra.io/pool",
		LabelState:            "arl.infra.io/state",
		LabelSandbox:          "arl.infra.io/sandbox",
		LabelTemplateHash:     "arl.infra.io/template-hash",
		IdlePodSelector("p"):  "arl.infra.io/pool=p,arl.infra.io/state=idle",
		PodStateAllocated:     "allocated",
		ExecutorContainerName: "executor",
		SidecarContainerName:  "sidecar",
		InstallContainerName:  "arl-install",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestExecutorContainerIndex(t *testing.T) {
	spec := func(names ...string) *corev1.PodSpec {
		s := &corev1.PodSpec{}
		for _, n := range names {
			s.Containers = append(s.Containers, corev1.Container{Name: n})
		}
		return s
	}
	tests := []struct {
		name string
		spec *corev1.PodSpec
		want int
	}{
		{"named executor wins", spec("helper", ExecutorContainerName), 1},
		{"else the first container", spec("main", "helper"), 0},
		{"no containers", spec(), -1},
		{"the user's sidecar is never the executor", spec(SidecarContainerName, "main"), 1},
		{"only a user's sidecar", spec(SidecarContainerName), -1},
	}
	for _, tc := range tests {
		if got := ExecutorContainerIndex(tc.spec); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
		if c := ExecutorContainer(tc.spec); (c == nil) != (tc.want < 0) || (c != nil && c != &tc.spec.Containers[tc.want]) {
			t.Errorf("%s: ExecutorContainer %v, want container %d", tc.name, c, tc.want)
		}
	}
}

func TestWithoutUserSidecar(t *testing.T) {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: ExecutorContainerName}, {Name: SidecarContainerName}, {Name: "helper"}}}
	original := spec.DeepCopy()
	stripped := spec.DeepCopy()
	WithoutUserSidecar(stripped)
	if len(stripped.Containers) != 2 || stripped.Containers[0].Name != ExecutorContainerName || stripped.Containers[1].Name != "helper" {
		t.Errorf("got containers %v, want executor and helper", stripped.Containers)
	}
	if UserSidecarIndex(stripped) != -1 || UserSidecarIndex(original) != 1 {
		t.Errorf("UserSidecarIndex: got %d and %d, want -1 and 1", UserSidecarIndex(stripped), UserSidecarIndex(original))
	}

	// The slice is not shared with a copy that kept the sidecar.
	shared := *spec
	WithoutUserSidecar(&shared)
	if spec.Containers[1].Name != SidecarContainerName || spec.Containers[2].Name != "helper" {
		t.Errorf("the original's containers changed: %v", spec.Containers)
	}
}

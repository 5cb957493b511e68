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

package pool

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// TestHashTemplateLeavesOutTheTemplatesSidecar: the template's own sidecar
// never runs, so adding, changing or removing it rolls no pod; templates
// without one hash as before.
func TestHashTemplateLeavesOutTheTemplatesSidecar(t *testing.T) {
	plain := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: arl.ExecutorContainerName, Image: "python:3.9-slim"},
	}}}
	withSidecar := plain.DeepCopy()
	withSidecar.Spec.Containers = append(withSidecar.Spec.Containers, corev1.Container{Name: arl.SidecarContainerName, Image: "a"})
	otherSidecar := plain.DeepCopy()
	otherSidecar.Spec.Containers = append([]corev1.Container{{Name: arl.SidecarContainerName, Image: "b"}}, otherSidecar.Spec.Containers...)

	want := HashTemplate(plain, "x")
	// The value pods of running servers carry: changing it rolls every pool.
	if want != "c79d85aa22c2e2eb" {
		t.Errorf("hash %s changed", want)
	}
	for name, template := range map[string]*corev1.PodTemplateSpec{"with a sidecar": withSidecar, "with another sidecar first": otherSidecar} {
		if got := HashTemplate(template, "x"); got != want {
			t.Errorf("%s: hash %s, want %s", name, got, want)
		}
		if arl.UserSidecarIndex(&template.Spec) < 0 {
			t.Errorf("%s: HashTemplate dropped the sidecar from the template", name)
		}
	}
	changed := plain.DeepCopy()
	changed.Spec.Containers[0].Image = "python:3.12-slim"
	if HashTemplate(changed, "x") == want {
		t.Errorf("a changed executor image keeps the hash")
	}
}

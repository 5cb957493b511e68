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
	"encoding/json"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// HashTemplate identifies a pod template plus what the runtime adds to it
// (e.g. the sidecar image), so pods of an older template can be told apart.
// The template's own sidecar container, which ARL's replaces, is left out:
// changing it changes no pod, and templates without one hash as they did.
func HashTemplate(template *corev1.PodTemplateSpec, extra ...string) string {
	if arl.UserSidecarIndex(&template.Spec) >= 0 {
		stripped := *template
		arl.WithoutUserSidecar(&stripped.Spec)
		template = &stripped
	}
	h := fnv.New64a()
	data, err := json.Marshal(template)
	if err != nil {
		// A PodTemplateSpec always marshals.
		panic(err)
	}
	h.Write(data)
	for _, e := range extra {
		h.Write([]byte{0})
		h.Write([]byte(e))
	}
	return fmt.Sprintf("%x", h.Sum64())
}

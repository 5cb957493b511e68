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

package local

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/pkg/pool"
)

var _ pool.Resizer = &Runtime{}

// Resize implements pool.Resizer: the cpu and memory limits become the
// local sandbox's cgroup limits at once (the server's defaults where they
// set none, as at create); requests mean nothing to a local sandbox. The
// pod is marked resized first, so a server that stops halfway still
// deletes it rather than returning it to its pool.
func (r *Runtime) Resize(_ context.Context, p *pool.Pod, resources corev1.ResourceRequirements) error {
	if r.cgroups == nil {
		return fmt.Errorf("%w: its local sandboxes run without cgroups", pool.ErrCannotResize)
	}
	marked, err := r.update(p, func(m *meta) error {
		m.Resized = true
		return nil
	})
	if err != nil {
		return err
	}
	limits := r.limits(&corev1.Container{Resources: resources})
	limits.PIDs = 0 // not a resource a Sandbox sets: left as it is
	for file, value := range r.cgroups.limitFiles(cgroupName(&meta{Namespace: p.Namespace, Name: p.Name}), limits) {
		if err := writeFile(file, value); err != nil {
			return fmt.Errorf("resizing local sandbox %s: %w", marked.Key(), err)
		}
	}
	return nil
}

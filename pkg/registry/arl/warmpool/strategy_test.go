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

package warmpool

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/registrytest"
)

func poolWith(containers ...corev1.Container) *arl.WarmPool {
	return &arl.WarmPool{Spec: arl.WarmPoolSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: containers}}}}
}

func TestWarnsWhenTheExecutorHasNoCommand(t *testing.T) {
	strategy := NewStrategy(registrytest.NewScheme(), Options{})
	if w := strategy.WarningsOnCreate(context.Background(), poolWith(corev1.Container{Name: arl.ExecutorContainerName, Command: []string{"sleep", "infinity"}})); len(w) != 0 {
		t.Errorf("unexpected warnings: %q", w)
	}
	w := strategy.WarningsOnCreate(context.Background(), poolWith(corev1.Container{Name: arl.ExecutorContainerName}))
	if len(w) != 1 {
		t.Fatalf("want one warning about the missing command, got %q", w)
	}
}

func TestPrepareForCreateResetsStatus(t *testing.T) {
	strategy := NewStrategy(registrytest.NewScheme(), Options{})
	pool := poolWith(corev1.Container{Name: arl.ExecutorContainerName})
	pool.Status.ReadyReplicas = 42
	strategy.PrepareForCreate(context.Background(), pool)
	if pool.Status.ReadyReplicas != 0 || pool.Generation != 1 {
		t.Errorf("after create: readyReplicas=%d generation=%d, want 0 and 1", pool.Status.ReadyReplicas, pool.Generation)
	}
}

func TestWarnsWhenEgressReachesCloudMetadata(t *testing.T) {
	strategy := NewStrategy(registrytest.NewScheme(), Options{})
	pool := poolWith(corev1.Container{Name: arl.ExecutorContainerName, Command: []string{"sleep", "infinity"}})
	pool.Spec.Network.Egress = arl.PoolEgress{Mode: arl.EgressAllowList, Allow: []arl.EgressRule{{CIDR: "169.254.0.0/16"}}}
	for _, w := range [][]string{strategy.WarningsOnCreate(context.Background(), pool), strategy.WarningsOnUpdate(context.Background(), pool, pool)} {
		if len(w) != 1 || !strings.HasPrefix(w[0], "spec.network.egress.allow[0].cidr: ") {
			t.Errorf("warnings %q, want one about spec.network.egress.allow[0].cidr", w)
		}
	}
}

// TestWarnsThatTheTemplatesSidecarIsReplaced: the manual's pools carry a
// sidecar container of their own; the API says it will not run, on create
// and on update, and leaves the object as the user wrote it.
func TestWarnsThatTheTemplatesSidecarIsReplaced(t *testing.T) {
	strategy := NewStrategy(registrytest.NewScheme(), Options{})
	pool := poolWith(
		corev1.Container{Name: arl.ExecutorContainerName, Command: []string{"sleep", "infinity"}},
		corev1.Container{Name: arl.SidecarContainerName, Image: "arl-sidecar:latest"},
	)
	strategy.PrepareForCreate(context.Background(), pool)
	want := `spec.template.spec.containers[1]: ARL's own "sidecar" container replaces this one in the pool's pods; nothing of it runs`
	for _, w := range [][]string{strategy.WarningsOnCreate(context.Background(), pool), strategy.WarningsOnUpdate(context.Background(), pool, pool)} {
		if len(w) != 1 || w[0] != want {
			t.Errorf("warnings %q, want [%q]", w, want)
		}
	}
	if n := len(pool.Spec.Template.Spec.Containers); n != 2 {
		t.Errorf("the stored template has %d containers, want the user's 2", n)
	}
}

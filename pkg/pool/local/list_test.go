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
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/arl-infra/arl/pkg/pool"
)

// TestListOrderAndScope: a pool's pods, oldest first (the pool replaces
// and scales down in that order), and none of a same-named pool in
// another namespace.
func TestListOrderAndScope(t *testing.T) {
	r := newTestRuntime(t)
	now := time.Now()
	for _, p := range []struct {
		ns, name, pool string
		age            time.Duration
	}{
		{"team-a", "py-new", "py", time.Minute},
		{"team-a", "py-old", "py", time.Hour},
		{"team-a", "go-1", "go", 2 * time.Hour},
		{"team-b", "py-other", "py", 3 * time.Hour},
	} {
		m := meta{Namespace: p.ns, Name: p.name, Pool: p.pool, Version: 1, State: pool.PodIdle, Created: now.Add(-p.age)}
		r.pods[p.ns+"/"+p.name] = &localPod{meta: m, dir: filepath.Join(r.opts.Dir, p.ns, p.name)}
	}
	var names []string
	for _, p := range r.List("team-a", "py") {
		names = append(names, p.Name)
	}
	if want := []string{"py-old", "py-new"}; !slices.Equal(names, want) {
		t.Errorf("List(team-a, py) = %v, want %v", names, want)
	}
	if all := r.ListAll(); len(all) != 4 || all[0].Name != "py-other" {
		t.Errorf("ListAll gave %d pods, first %v; want 4, oldest first", len(all), all)
	}
	if _, ok := r.Get("team-b", "py-new"); ok {
		t.Error("Get found a pod in the wrong namespace")
	}
}

// TestTargetIsThePodsSocket: the agent is reached over the socket in the
// pod's run directory, which bubblewrap binds into the sandbox.
func TestTargetIsThePodsSocket(t *testing.T) {
	r := newTestRuntime(t)
	p := &pool.Pod{Namespace: "team-a", Name: "py-abcde"}
	want := filepath.Join(r.opts.Dir, "team-a", "py-abcde", "run", "agent.sock")
	if got := r.Target(p); got.Address != want || got.TLS != nil {
		t.Errorf("Target = %+v, want %s without TLS", got, want)
	}
	if got := r.Address(p); got != "unix://"+want {
		t.Errorf("Address = %s", got)
	}
}

// TestLimits: a pool's executor limits replace the server's defaults, one
// by one; the process limit is always the server's.
func TestLimits(t *testing.T) {
	r := newTestRuntime(t)
	r.opts.Limits = Limits{MemoryBytes: 2 << 30, CPUMillis: 1000, PIDs: 1024}
	limits := func(l corev1.ResourceList) *corev1.Container {
		return &corev1.Container{Resources: corev1.ResourceRequirements{Limits: l}}
	}
	for _, c := range []struct {
		name     string
		executor *corev1.Container
		want     Limits
	}{
		{"none set", limits(nil), Limits{2 << 30, 1000, 1024}},
		{"memory set", limits(corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}), Limits{512 << 20, 1000, 1024}},
		{"cpu set", limits(corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}), Limits{2 << 30, 250, 1024}},
	} {
		if got := r.limits(c.executor); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

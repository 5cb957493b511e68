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

// Package pool tests WarmPools and Sandboxes on the standalone server's
// local runtime: real bubblewrap sandboxes running the real arl-sidecar.
package pool

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlclient "github.com/arl-infra/arl/pkg/generated/clientset/versioned/typed/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

const ns = metav1.NamespaceDefault

func pythonPool(name string, replicas int32) *arlv1alpha1.WarmPool {
	return &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: arlv1alpha1.WarmPoolSpec{
			Replicas: ptr.To(replicas),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: arl.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"},
			}}}},
		},
	}
}

func sandbox(name, pool string) *arlv1alpha1.Sandbox {
	return &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: pool, KeepAlive: true},
	}
}

type env struct {
	t      *testing.T
	server *framework.Standalone
	arl    arlclient.ArlV1alpha1Interface
	ctx    context.Context
}

func newEnv(t *testing.T) *env {
	server := framework.StartStandalone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, server: server, arl: server.Clientset().ArlV1alpha1(), ctx: ctx}
}

func (e *env) createPool(pool *arlv1alpha1.WarmPool) {
	e.t.Helper()
	if _, err := e.arl.WarmPools(ns).Create(e.ctx, pool, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
}

// waitPool waits until the pool's status satisfies cond.
func (e *env) waitPool(name string, what string, cond func(*arlv1alpha1.WarmPool) bool) *arlv1alpha1.WarmPool {
	e.t.Helper()
	var pool *arlv1alpha1.WarmPool
	framework.Eventually(e.t, 2*time.Minute, fmt.Sprintf("WarmPool %s: %s", name, what), func() bool {
		var err error
		pool, err = e.arl.WarmPools(ns).Get(e.ctx, name, metav1.GetOptions{})
		return err == nil && cond(pool)
	})
	return pool
}

func readyIdle(n int32) func(*arlv1alpha1.WarmPool) bool {
	return func(p *arlv1alpha1.WarmPool) bool {
		return p.Status.ReadyReplicas == n && p.Status.Replicas-p.Status.AllocatedReplicas == n && p.Status.ObservedGeneration == p.Generation
	}
}

func (e *env) waitSandbox(name, what string, cond func(*arlv1alpha1.Sandbox) bool) *arlv1alpha1.Sandbox {
	e.t.Helper()
	var sb *arlv1alpha1.Sandbox
	framework.Eventually(e.t, 2*time.Minute, fmt.Sprintf("Sandbox %s: %s", name, what), func() bool {
		var err error
		sb, err = e.arl.Sandboxes(ns).Get(e.ctx, name, metav1.GetOptions{})
		return err == nil && cond(sb)
	})
	return sb
}

func isPhase(phase arlv1alpha1.SandboxPhase) func(*arlv1alpha1.Sandbox) bool {
	return func(s *arlv1alpha1.Sandbox) bool { return s.Status.Phase == phase }
}

// localPod is what the local runtime keeps of a pod.
type localPod struct {
	Name    string `json:"name"`
	Pool    string `json:"pool"`
	State   string `json:"state"`
	Sandbox string `json:"sandbox"`
	PID     int    `json:"pid"`
}

// pods lists the local pods on disk (they are the source of truth).
func (e *env) pods() map[string]localPod {
	out := map[string]localPod{}
	paths, _ := filepath.Glob(filepath.Join(e.server.DataDir, "pods", ns, "*", "pod.json"))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var p localPod
		if json.Unmarshal(data, &p) == nil {
			out[p.Name] = p
		}
	}
	return out
}

func (e *env) workspace(pod string) string {
	return filepath.Join(e.server.DataDir, "pods", ns, pod, "workspace")
}

func alive(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

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

package tasks

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/utils/ptr"

	"github.com/prometheus/common/model"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

// scrape reads the server's /metrics.
func (e *env) scrape() testutil.Metrics {
	e.t.Helper()
	raw, err := e.rest.Get().AbsPath("/metrics").DoRaw(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	m := testutil.NewMetrics()
	if err := testutil.ParseMetrics(string(raw), &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// value sums the samples of name whose labels include want.
func value(m testutil.Metrics, name string, want map[string]string) float64 {
	total := 0.0
	for _, s := range m[name] {
		match := true
		for k, v := range want {
			if string(s.Metric[model.LabelName(k)]) != v {
				match = false
				break
			}
		}
		if match {
			total += float64(s.Value)
		}
	}
	return total
}

// TestMetricsCountAKnownWorkload: /metrics before and after a known
// workload (3 warm binds, 1 bind that waits for a pod, 1 bind refused for
// its resources; 4 Tasks of which 1 fails, and 1 Task whose Sandbox does
// not exist) moves every counter and histogram count by exactly that.
func TestMetricsCountAKnownWorkload(t *testing.T) {
	e := newEnv(t, 3)
	for _, p := range []struct {
		name     string
		replicas int32
		limits   corev1.ResourceList
	}{
		{"on-demand", 0, nil},
		{"limited", 0, corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
	} {
		_, err := e.arl.WarmPools(ns).Create(e.ctx, &arlv1alpha1.WarmPool{
			ObjectMeta: metav1.ObjectMeta{Name: p.name},
			Spec: arlv1alpha1.WarmPoolSpec{Replicas: ptr.To(p.replicas), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: arl.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"},
				Resources: corev1.ResourceRequirements{Limits: p.limits},
			}}}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
	}
	pool := map[string]string{"namespace": ns, "pool": "python-pool"}
	framework.Eventually(t, 2*time.Minute, "3 idle Ready pods in the gauge", func() bool {
		return value(e.scrape(), "arl_warmpool_pods", with(pool, "state", "idle_ready")) == 3
	})
	before := e.scrape()

	for i := range 3 {
		e.sandbox(fmt.Sprintf("warm-%d", i), true)
	}
	waited := &arlv1alpha1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "waited"}, Spec: arlv1alpha1.SandboxSpec{PoolRef: "on-demand", KeepAlive: true}}
	if _, err := e.arl.Sandboxes(ns).Create(e.ctx, waited, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	refused := &arlv1alpha1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: "refused"}, Spec: arlv1alpha1.SandboxSpec{PoolRef: "limited",
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}}
	if _, err := e.arl.Sandboxes(ns).Create(e.ctx, refused, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("a Sandbox asking for more CPU than its pool's limit: %v, want 422", err)
	}
	for i, argv := range [][]string{{"true"}, {"true"}, {"false"}, {"sh", "-c", "echo out"}} {
		e.exec(newTask(fmt.Sprintf("t-%d", i), "warm-0", command("s", argv...)))
	}
	if got := e.exec(newTask("nowhere", "no-such-sandbox", command("s", "true"))); got.Status.State != arlv1alpha1.TaskFailed {
		t.Fatalf("a Task of a missing Sandbox: %s, want Failed", got.Status.State)
	}
	framework.Eventually(t, 2*time.Minute, "the waiting Sandbox bound", func() bool {
		sb, err := e.arl.Sandboxes(ns).Get(e.ctx, "waited", metav1.GetOptions{})
		return err == nil && sb.Status.Phase == arlv1alpha1.SandboxReady
	})
	var after testutil.Metrics
	framework.Eventually(t, time.Minute, "3 allocated pods, the pool refilled to 3 idle Ready ones", func() bool {
		after = e.scrape()
		return value(after, "arl_warmpool_pods", with(pool, "state", "allocated")) == 3 &&
			value(after, "arl_warmpool_pods", with(pool, "state", "idle_ready")) == 3
	})

	// kubectl describe warmpool shows the same binds and the refill.
	for _, c := range []struct {
		pool          string
		count, waited int32
	}{{"python-pool", 3, 0}, {"on-demand", 1, 1}} {
		framework.Eventually(t, 30*time.Second, c.pool+"'s status.recentBinds", func() bool {
			p, err := e.arl.WarmPools(ns).Get(e.ctx, c.pool, metav1.GetOptions{})
			rb := p.Status.RecentBinds
			return err == nil && rb != nil && rb.Count == c.count && rb.Waited == c.waited && rb.P50.Duration > 0 && rb.P99.Duration >= rb.P50.Duration
		})
	}
	framework.Eventually(t, 30*time.Second, "python-pool Refilling False (Full)", func() bool {
		p, err := e.arl.WarmPools(ns).Get(e.ctx, "python-pool", metav1.GetOptions{})
		c := meta.FindStatusCondition(p.Status.Conditions, arlv1alpha1.WarmPoolConditionRefilling)
		return err == nil && c != nil && c.Status == metav1.ConditionFalse && c.Reason == "Full"
	})
	if desc := e.server.Kubectl().MustRun("describe", "warmpool", "python-pool"); !strings.Contains(desc, "Recent Binds") || !strings.Contains(desc, "Refilling") {
		t.Errorf("kubectl describe warmpool does not show the recent binds and the refill:\n%s", desc)
	}

	delta := func(name string, labels map[string]string) float64 {
		return value(after, name, labels) - value(before, name, labels)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"arl_sandbox_bind_duration_seconds_count", with(pool, "outcome", "warm"), 3},
		{"arl_sandbox_bind_duration_seconds_count", map[string]string{"pool": "on-demand", "outcome": "waited"}, 1},
		{"arl_sandbox_bind_duration_seconds_count", map[string]string{"pool": "limited", "outcome": "failed"}, 1},
		{"arl_sandbox_bind_duration_seconds_count", nil, 5},
		{"arl_task_finished_total", map[string]string{"state": "Succeeded", "reason": "Succeeded"}, 3},
		{"arl_task_finished_total", map[string]string{"state": "Failed", "reason": "StepFailed"}, 1},
		{"arl_task_finished_total", map[string]string{"state": "Failed", "reason": "SandboxNotFound"}, 1},
		{"arl_task_finished_total", nil, 5},
		{"arl_task_duration_seconds_count", map[string]string{"state": "Succeeded"}, 3},
		{"arl_task_duration_seconds_count", map[string]string{"state": "Failed"}, 1},
		{"arl_task_queue_wait_seconds_count", map[string]string{"namespace": ns}, 4},
		{"arl_agent_call_duration_seconds_count", map[string]string{"rpc": "Execute", "code": "OK"}, 4},
		// The refill's 3 pods and the waiting Sandbox's 1 turned Ready.
		{"arl_warmpool_pod_ready_duration_seconds_count", pool, 3},
		{"arl_warmpool_pod_ready_duration_seconds_count", map[string]string{"pool": "on-demand"}, 1},
	} {
		if got := delta(c.name, c.labels); got != c.want {
			t.Errorf("%s%v moved by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, gauge := range []string{"arl_executor_tasks_running", "arl_executor_tasks_queued"} {
		if got := value(after, gauge, nil); got != 0 {
			t.Errorf("%s = %v with nothing running, want 0", gauge, got)
		}
	}
	if got := value(after, "arl_sandboxes", map[string]string{"namespace": ns, "phase": "Ready"}); got != 4 {
		t.Errorf("arl_sandboxes{phase=Ready} = %v, want 4", got)
	}
	if got := value(after, "arl_warmpool_pods", with(pool, "state", "desired")); got != 3 {
		t.Errorf("desired idle pods of python-pool = %v, want 3", got)
	}
	// No series names an object: labels stop at the pool.
	for name, samples := range after {
		if !strings.HasPrefix(name, "arl_") {
			continue
		}
		for _, s := range samples {
			for label, v := range s.Metric {
				if strings.HasPrefix(string(v), "warm-") || strings.HasPrefix(string(v), "t-") {
					t.Errorf("%s has an object's name in label %s: %s", name, label, s.Metric)
				}
			}
		}
	}
}

// with is labels plus one more.
func with(labels map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for key, val := range labels {
		out[key] = val
	}
	return out
}

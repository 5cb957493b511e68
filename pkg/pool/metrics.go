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
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arllisters "github.com/arl-infra/arl/pkg/generated/listers/arl/v1alpha1"
)

// Outcomes of a bind (the outcome label of arl_sandbox_bind_duration_seconds).
const (
	// BindWarm: the create found an idle Ready pod and answered Ready.
	BindWarm = "warm"
	// BindWaited: the Sandbox was created Pending and bound later.
	BindWaited = "waited"
	// BindFailed: the create failed after its bind was tried.
	BindFailed = "failed"
)

// States of a pool's pods (the state label of arl_warmpool_pods).
const (
	podsDesired      = "desired"
	podsIdleReady    = "idle_ready"
	podsIdleStarting = "idle_starting"
	podsAllocated    = "allocated"
)

// The pool manager's and the binder's metrics (docs/metrics.md). Labels
// stop at the pool: a Sandbox's or pod's name would make a series each.
var (
	bindDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Namespace: "arl", Subsystem: "sandbox", Name: "bind_duration_seconds",
		Help: "Time to a Sandbox's pod, by outcome: warm (the create request, which answered Ready), " +
			"waited (from the Sandbox's creation, whole seconds, to its bind) and failed (the create request).",
		Buckets:        metrics.ExponentialBuckets(0.001, 2, 18), // 1 ms to 131 s
		StabilityLevel: metrics.ALPHA,
	}, []string{"namespace", "pool", "outcome"})
	poolPodsGauge = metrics.NewGaugeVec(&metrics.GaugeOpts{
		Namespace: "arl", Subsystem: "warmpool", Name: "pods",
		Help: "A pool's pods by state as its last sync saw them: desired idle (spec.replicas plus a pod per waiting Sandbox), " +
			"idle_ready, idle_starting, allocated. Reported by the replica that manages pools.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"namespace", "pool", "state"})
	podReadyDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Namespace: "arl", Subsystem: "warmpool", Name: "pod_ready_duration_seconds",
		Help: "From a pool pod's creation to the first time it is seen Ready (its agent answers), as the replica managing pools sees it. " +
			"In a cluster the creation time has whole seconds.",
		Buckets:        metrics.ExponentialBuckets(0.05, 2, 14), // 50 ms to 410 s
		StabilityLevel: metrics.ALPHA,
	}, []string{"namespace", "pool"})
	podFailures = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arl", Subsystem: "warmpool", Name: "pod_failures_total",
		Help:           "Pool pods replaced because they failed or were not Ready in time, by reason.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"namespace", "pool", "reason"})
)

var registerOnce sync.Once

// RegisterMetrics adds the pool manager's and the binder's metrics to the
// server's /metrics.
func RegisterMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(bindDuration, poolPodsGauge, podReadyDuration, podFailures)
		legacyregistry.CustomMustRegister(sandboxPhases)
	})
}

// ObserveBind records one bind of a Sandbox of pool: its outcome and how
// long it took.
func ObserveBind(namespace, pool, outcome string, took time.Duration) {
	bindDuration.WithLabelValues(namespace, pool, outcome).Observe(took.Seconds())
}

// observePool sets a pool's pod gauges from its sync.
func observePool(pool *arlv1alpha1.WarmPool, desired int, pods *poolPods) {
	ready := 0
	for _, pod := range pods.idle {
		if pod.Ready {
			ready++
		}
	}
	set := func(state string, n int) {
		poolPodsGauge.WithLabelValues(pool.Namespace, pool.Name, state).Set(float64(n))
	}
	set(podsDesired, desired)
	set(podsIdleReady, ready)
	set(podsIdleStarting, len(pods.idle)-ready)
	set(podsAllocated, len(pods.allocated))
}

// forgetPools drops every pool's gauges: this replica stopped managing
// pools, and another reports them now.
func forgetPools() { poolPodsGauge.Reset() }

// forgetPool drops a deleted pool's gauges.
func forgetPool(namespace, name string) {
	for _, state := range []string{podsDesired, podsIdleReady, podsIdleStarting, podsAllocated} {
		poolPodsGauge.DeleteLabelValues(namespace, name, state)
	}
}

// readyPods remembers whether each pod was last seen Ready, so that a pod's
// time to Ready is observed once, when it turns Ready.
type readyPods struct {
	mu    sync.Mutex
	ready map[types.UID]bool
}

// observe follows pod's readiness; record says whether a pod turning
// Ready is observed (the replica managing pools records, the others
// follow along so that a new leader does not count pods Ready long ago).
func (r *readyPods) observe(pod *Pod, deleted, record bool, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if deleted {
		delete(r.ready, pod.UID)
		return
	}
	if r.ready == nil {
		r.ready = map[types.UID]bool{}
	}
	wasReady, known := r.ready[pod.UID]
	r.ready[pod.UID] = pod.Ready
	// First seen (already Ready, or not yet), or no change: nothing to time.
	if !known || wasReady || !pod.Ready {
		return
	}
	// Ready again after a blip is not a start.
	if record && pod.NotReadySince.IsZero() && !pod.Created.IsZero() {
		podReadyDuration.WithLabelValues(pod.Namespace, pod.Pool).Observe(now.Sub(pod.Created).Seconds())
	}
}

// sandboxPhases counts Sandboxes by namespace and phase from the informer
// cache when /metrics is read: arl_sandboxes.
var sandboxPhases = &sandboxPhaseCollector{desc: metrics.NewDesc("arl_sandboxes",
	"Sandboxes by namespace and phase, from this replica's cache.", []string{"namespace", "phase"}, nil, metrics.ALPHA, "")}

type sandboxPhaseCollector struct {
	metrics.BaseStableCollector
	desc   *metrics.Desc
	lister atomic.Pointer[arllisters.SandboxLister]
}

// countSandboxes makes sandboxPhases read lister.
func countSandboxes(lister arllisters.SandboxLister) { sandboxPhases.lister.Store(&lister) }

func (c *sandboxPhaseCollector) DescribeWithStability(ch chan<- *metrics.Desc) { ch <- c.desc }

func (c *sandboxPhaseCollector) CollectWithStability(ch chan<- metrics.Metric) {
	lister := c.lister.Load()
	if lister == nil {
		return
	}
	sandboxes, err := (*lister).List(labels.Everything())
	if err != nil {
		return
	}
	type key struct{ namespace, phase string }
	counts := map[key]int{}
	for _, sb := range sandboxes {
		counts[key{sb.Namespace, string(sb.Status.Phase)}]++
	}
	for k, n := range counts {
		ch <- metrics.NewLazyConstMetric(c.desc, metrics.GaugeValue, float64(n), k.namespace, k.phase)
	}
}

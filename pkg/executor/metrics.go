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

package executor

import (
	"sync"
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// The executor's metrics (docs/metrics.md). Labels stop at the namespace:
// a Task's or Sandbox's name would make a series per object.
var (
	tasksFinished = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arl", Subsystem: "task", Name: "finished_total",
		Help:           "Tasks this replica finished (or failed at admission), by state and the reason of their Complete condition.",
		StabilityLevel: metrics.ALPHA,
	}, []string{"namespace", "state", "reason"})
	taskDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Namespace: "arl", Subsystem: "task", Name: "duration_seconds",
		Help:           "Run time of the Tasks this replica ran, from their start to their result, by state.",
		Buckets:        metrics.ExponentialBuckets(0.001, 2, 20), // 1 ms to 524 s
		StabilityLevel: metrics.ALPHA,
	}, []string{"namespace", "state"})
	taskQueueWait = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Namespace: "arl", Subsystem: "task", Name: "queue_wait_seconds",
		Help:           "Time from a Task's admission on this replica to its start: earlier Tasks of its Sandbox, a Sandbox not Ready yet, the replica's concurrency limit.",
		Buckets:        metrics.ExponentialBuckets(0.0005, 2, 20), // 0.5 ms to 262 s
		StabilityLevel: metrics.ALPHA,
	}, []string{"namespace"})
	tasksRunning = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: "arl", Subsystem: "executor", Name: "tasks_running",
		Help:           "Tasks running on this replica (at most --max-concurrent-tasks).",
		StabilityLevel: metrics.ALPHA,
	})
	tasksQueued = metrics.NewGauge(&metrics.GaugeOpts{
		Namespace: "arl", Subsystem: "executor", Name: "tasks_queued",
		Help:           "Tasks admitted on this replica that wait for earlier Tasks of their Sandbox or for the Sandbox to be Ready.",
		StabilityLevel: metrics.ALPHA,
	})
	sandboxQueueDepth = metrics.NewHistogram(&metrics.HistogramOpts{
		Namespace: "arl", Subsystem: "executor", Name: "sandbox_queue_depth",
		Help:           "Tasks waiting in a Sandbox's queue, the new one included, each time a Task joins it.",
		Buckets:        metrics.ExponentialBuckets(1, 2, 10), // 1 to 512
		StabilityLevel: metrics.ALPHA,
	})
	outputTruncatedBytes = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "arl", Subsystem: "task", Name: "output_truncated_bytes_total",
		Help:           "Bytes of Task stdout and stderr not kept in the stored status (beyond --task-output-bytes, or a result too large for the store).",
		StabilityLevel: metrics.ALPHA,
	}, []string{"namespace"})
)

var registerOnce sync.Once

// RegisterMetrics adds the executor's metrics to the server's /metrics.
func RegisterMetrics() {
	registerOnce.Do(func() {
		legacyregistry.MustRegister(tasksFinished, taskDuration, taskQueueWait, tasksRunning, tasksQueued,
			sandboxQueueDepth, outputTruncatedBytes)
	})
}

// observeFinished counts a finished Task by its state and reason, and its
// run time when it ran.
func observeFinished(task *arl.Task) {
	if task == nil || !task.Status.State.IsFinished() {
		return
	}
	reason, _ := completeReason(task)
	state := string(task.Status.State)
	tasksFinished.WithLabelValues(task.Namespace, state, reason).Inc()
	if d := task.Status.Duration; d != nil {
		taskDuration.WithLabelValues(task.Namespace, state).Observe(d.Seconds())
	}
}

func observeQueueWait(namespace string, d time.Duration) {
	taskQueueWait.WithLabelValues(namespace).Observe(d.Seconds())
}

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

package client

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// callDuration is every AgentService call's time and gRPC code. The
// labels are the method and the code: never the sandbox or pod.
var callDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
	Namespace: "arl", Subsystem: "agent", Name: "call_duration_seconds",
	Help: "Calls to sandboxes' agents (arl-sidecar) by RPC and gRPC code: a unary call until its answer, " +
		"a stream until it ends (an Execute lasts as long as its command).",
	Buckets:        metrics.ExponentialBuckets(0.0005, 2, 20), // 0.5 ms to 262 s
	StabilityLevel: metrics.ALPHA,
}, []string{"rpc", "code"})

var registerOnce sync.Once

// RegisterMetrics adds the agent call metrics to the server's /metrics;
// other programs using this package (kubectl arl, benchmarks) leave them
// unregistered, which makes observing them a no-op.
func RegisterMetrics() {
	registerOnce.Do(func() { legacyregistry.MustRegister(callDuration) })
}

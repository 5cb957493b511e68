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

package claims

import (
	"sync"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// claimWrites counts the ledger's writes to ARL's etcd (its own client:
// the generic etcd_request_* families do not see them). A write that
// finds the pod claimed (a create) or the claim changed (a delete) still
// is a request etcd served, and counts.
var claimWrites = metrics.NewCounterVec(&metrics.CounterOpts{
	Namespace: "arl", Subsystem: "claim", Name: "writes_total",
	Help:           "Transactions the pod claim ledger sent to ARL's etcd (--pod-claims=etcd), by operation: create_with_sandbox (a bind: the claim and its Sandbox), create (a claim alone: a bind that resizes its pod or that lost its pod three times, the pool manager's bind of a waiting Sandbox, a hold before a delete), delete_with_sandbox (a Sandbox delete and the claim of its pod, reset before it), delete (a release), forget (a pod gone).",
	StabilityLevel: metrics.ALPHA,
}, []string{"operation"})

var registerOnce sync.Once

// RegisterMetrics adds the ledger's metrics to the server's /metrics.
func RegisterMetrics() {
	registerOnce.Do(func() { legacyregistry.MustRegister(claimWrites) })
}

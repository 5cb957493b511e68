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

package apiserver

import (
	"github.com/arl-infra/arl/pkg/executor"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/pool/claims"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// registerMetrics adds ARL's own metrics (docs/metrics.md) to the
// /metrics the generic server serves beside its own families.
func registerMetrics() {
	pool.RegisterMetrics()
	claims.RegisterMetrics()
	executor.RegisterMetrics()
	client.RegisterMetrics()
}

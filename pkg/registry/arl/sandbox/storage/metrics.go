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

package storage

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// MetricsREST is sandboxes/{name}/metrics: the sandbox's own gauges from
// its agent, in Prometheus' text format, so they are read through the
// API server (its authentication, RBAC and audit) and the agent's port
// stays closed to the cluster.
type MetricsREST struct{ hostMode }

var _ rest.Connecter = &MetricsREST{}

// New implements rest.Storage.
func (r *MetricsREST) New() runtime.Object { return &arl.Sandbox{} }

// Destroy implements rest.Storage.
func (r *MetricsREST) Destroy() {}

// NewConnectOptions implements rest.Connecter: it takes no options.
func (r *MetricsREST) NewConnectOptions() (runtime.Object, bool, string) { return nil, false, "" }

// ConnectMethods implements rest.Connecter.
func (r *MetricsREST) ConnectMethods() []string { return []string{http.MethodGet} }

// sandboxGauges are the text format's families, in order.
var sandboxGauges = []struct {
	name, help string
	value      func(*agentv1.SandboxStats) float64
}{
	{"arl_sandbox_processes", "Processes the sandbox's agent started, and theirs, alive now.",
		func(s *agentv1.SandboxStats) float64 { return float64(s.GetProcesses()) }},
	{"arl_sandbox_workspace_bytes", "Apparent size of the regular files under the workspace (a lower bound when arl_sandbox_workspace_walk_truncated is 1).",
		func(s *agentv1.SandboxStats) float64 { return float64(s.GetWorkspaceBytes()) }},
	{"arl_sandbox_workspace_entries", "Files and directories under the workspace that the walk saw.",
		func(s *agentv1.SandboxStats) float64 { return float64(s.GetWorkspaceEntries()) }},
	{"arl_sandbox_workspace_walk_truncated", "1 when the workspace walk stopped at its bound of entries.",
		func(s *agentv1.SandboxStats) float64 {
			if s.GetWorkspaceWalkTruncated() {
				return 1
			}
			return 0
		}},
	{"arl_sandbox_agent_uptime_seconds", "Seconds since the sandbox's agent started.",
		func(s *agentv1.SandboxStats) float64 { return float64(s.GetUptimeSeconds()) }},
}

// Connect implements rest.Connecter.
func (r *MetricsREST) Connect(ctx context.Context, name string, _ runtime.Object, responder rest.Responder) (http.Handler, error) {
	sb, agent, err := r.agent(ctx, name)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		stats, err := agent.API().GetStats(ctx, &agentv1.StatsRequest{})
		if err != nil {
			responder.Error(apierrors.NewServiceUnavailable(fmt.Sprintf("the agent of Sandbox %q: %v", name, err)))
			return
		}
		labels := fmt.Sprintf(`{namespace=%q,sandbox=%q,pool=%q}`, sb.Namespace, sb.Name, sb.Spec.PoolRef)
		var b strings.Builder
		for _, g := range sandboxGauges {
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s%s %v\n", g.name, g.help, g.name, g.name, labels, g.value(stats))
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(b.String()))
	}), nil
}

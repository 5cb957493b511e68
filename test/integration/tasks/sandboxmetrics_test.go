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
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/component-base/metrics/testutil"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// sandboxMetrics reads sandboxes/{name}/metrics.
func (e *env) sandboxMetrics(name string) (testutil.Metrics, error) {
	raw, err := e.rest.Get().Namespace(ns).Resource("sandboxes").Name(name).SubResource("metrics").DoRaw(e.ctx)
	if err != nil {
		return nil, err
	}
	m := testutil.NewMetrics()
	return m, testutil.ParseMetrics(string(raw), &m)
}

// TestSandboxMetricsThroughTheAPI: a sandbox's own gauges come through
// the API server: a background process started is one more process, a
// file written is its size more in the workspace; an unknown Sandbox is a
// 404.
func TestSandboxMetricsThroughTheAPI(t *testing.T) {
	e := newEnv(t, 1, "sb")
	before, err := e.sandboxMetrics("sb")
	if err != nil {
		t.Fatal(err)
	}
	sleeper := command("sleep", "sleep", "300")
	sleeper.Background = true
	mustState(t, e.exec(newTask("work", "sb", filePatch("write", "/workspace/data.txt", "0123456789"), sleeper)), arlv1alpha1.TaskSucceeded)
	after, err := e.sandboxMetrics("sb")
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"namespace": ns, "sandbox": "sb", "pool": "python-pool"}
	for _, c := range []struct {
		name string
		want float64
	}{
		{"arl_sandbox_processes", 1},
		{"arl_sandbox_workspace_bytes", 10},
		{"arl_sandbox_workspace_entries", 1},
	} {
		if got := value(after, c.name, labels) - value(before, c.name, labels); got != c.want {
			t.Errorf("%s moved by %v, want %v", c.name, got, c.want)
		}
	}
	if value(after, "arl_sandbox_agent_uptime_seconds", labels) < value(before, "arl_sandbox_agent_uptime_seconds", labels) {
		t.Error("the agent's uptime went back")
	}
	if _, err := e.sandboxMetrics("no-such-sandbox"); !apierrors.IsNotFound(err) {
		t.Errorf("metrics of an unknown Sandbox: %v, want 404", err)
	}
}

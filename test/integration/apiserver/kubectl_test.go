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

// Package apiserver drives a real standalone arl-apiserver with
// /usr/bin/kubectl, the generated clientset and Debian's python3-kubernetes.
package apiserver

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/arl-infra/arl/test/integration/framework"
)

func examplesDir(t *testing.T) string {
	root, err := framework.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "artifacts", "examples")
}

// header returns the column names of a kubectl table.
func header(out string) []string {
	return strings.Fields(strings.SplitN(out, "\n", 2)[0])
}

func assertHeader(t *testing.T, out string, want ...string) {
	t.Helper()
	if got := header(out); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("columns = %q, want %q\n%s", got, want, out)
	}
}

// TestManualWithKubectl runs what the manual tells users to type.
func TestManualWithKubectl(t *testing.T) {
	server := framework.StartStandalone(t)
	k := server.Kubectl()
	dir := examplesDir(t)

	out := k.MustRun("apply", "-f", dir)
	for _, want := range []string{"warmpool.arl.infra.io/python-pool created", "sandbox.arl.infra.io/my-workspace created", "task.arl.infra.io/hello-task created"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}

	t.Run("tables", func(t *testing.T) {
		assertHeader(t, k.MustRun("get", "task", "hello-task"), "NAME", "STATE", "EXITCODE", "SANDBOX", "DURATION", "AGE")
		assertHeader(t, k.MustRun("get", "task", "hello-task", "-o", "wide"),
			"NAME", "STATE", "EXITCODE", "SANDBOX", "DURATION", "AGE", "STEPS", "ATTEMPTS", "REASON")
		assertHeader(t, k.MustRun("get", "sandbox", "my-workspace"), "NAME", "POOL", "PHASE", "POD", "AGE")
		assertHeader(t, k.MustRun("get", "warmpool", "python-pool"), "NAME", "REPLICAS", "IDLE", "READY", "ALLOCATED", "AGE")
		assertHeader(t, k.MustRun("get", "warmpool", "python-pool", "-o", "wide"),
			"NAME", "REPLICAS", "IDLE", "READY", "ALLOCATED", "AGE", "PODS", "REUSE", "IMAGES")
		if out := k.MustRun("get", "task", "hello-task"); !regexp.MustCompile(`hello-task\s+\S+\s+\S+\s+my-workspace`).MatchString(out) {
			t.Errorf("task row does not name its sandbox:\n%s", out)
		}
	})

	t.Run("several kinds and the arl category", func(t *testing.T) {
		for _, args := range [][]string{{"get", "warmpool,sandbox,task"}, {"get", "arl"}, {"get", "warmpool,sandbox,task", "-o", "wide"}} {
			out := k.MustRun(args...)
			for _, want := range []string{"warmpool.arl.infra.io/python-pool", "sandbox.arl.infra.io/my-workspace", "task.arl.infra.io/hello-task"} {
				if !strings.Contains(out, want) {
					t.Errorf("kubectl %s lacks %s:\n%s", strings.Join(args, " "), want, out)
				}
			}
		}
	})

	t.Run("jsonpath", func(t *testing.T) {
		if got := k.MustRun("get", "task", "hello-task", "-o", "jsonpath={.spec.steps[1].command}"); got != `["python","/workspace/hello.py"]` {
			t.Errorf("jsonpath command = %q", got)
		}
		if got := k.MustRun("get", "task", "hello-task", "-o", "jsonpath={.spec.timeout}"); got != "30s" {
			t.Errorf("jsonpath timeout = %q", got)
		}
		if got := k.MustRun("get", "sandbox", "my-workspace", "-o", "jsonpath={.spec.poolRef}"); got != "python-pool" {
			t.Errorf("jsonpath poolRef = %q", got)
		}
	})

	t.Run("describe", func(t *testing.T) {
		out := k.MustRun("describe", "task", "hello-task")
		for _, want := range []string{"Name:         hello-task", "Sandbox Ref:  my-workspace", "write-code", "/workspace/hello.py"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("explain", func(t *testing.T) {
		out := k.MustRun("explain", "task.spec.steps")
		for _, want := range []string{"KIND:       Task", "FIELD: steps", "command", "workDir", "background"} {
			if !strings.Contains(out, want) {
				t.Errorf("explain lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("api-resources", func(t *testing.T) {
		out := k.MustRun("api-resources", "--api-group=arl.infra.io", "-o", "wide")
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^warmpools\s+wp\s+arl.infra.io/v1alpha1\s+true\s+WarmPool\s.*arl`),
			regexp.MustCompile(`(?m)^sandboxes\s+sbx\s+arl.infra.io/v1alpha1\s+true\s+Sandbox\s.*arl`),
			regexp.MustCompile(`(?m)^tasks\s+tk\s+arl.infra.io/v1alpha1\s+true\s+Task\s.*arl`),
		} {
			if !want.MatchString(out) {
				t.Errorf("api-resources does not match %s:\n%s", want, out)
			}
		}
		if out := k.MustRun("get", "wp,sbx,tk", "-o", "name"); strings.Count(out, "\n") != 3 {
			t.Errorf("short names list %q", out)
		}
	})

	t.Run("field selectors", func(t *testing.T) {
		if out := k.MustRun("get", "tasks", "--field-selector", "spec.sandboxRef=my-workspace", "-o", "name"); out != "task.arl.infra.io/hello-task\n" {
			t.Errorf("spec.sandboxRef=my-workspace: %q", out)
		}
		if out := k.MustRun("get", "tasks", "--field-selector", "spec.sandboxRef=other", "-o", "name"); out != "" {
			t.Errorf("spec.sandboxRef=other: %q", out)
		}
		if out := k.MustRun("get", "sandboxes", "--field-selector", "spec.poolRef=python-pool", "-o", "name"); out != "sandbox.arl.infra.io/my-workspace\n" {
			t.Errorf("spec.poolRef=python-pool: %q", out)
		}
		if out := k.MustRun("get", "sandboxes", "--field-selector", "spec.poolRef=nope", "-o", "name"); out != "" {
			t.Errorf("spec.poolRef=nope: %q", out)
		}
		r := k.Run("", "get", "tasks", "--field-selector", "spec.nope=x")
		if r.Err == nil || !strings.Contains(r.Stderr, `field label "spec.nope" not supported`) {
			t.Errorf("unknown field selector: err=%v stderr=%s", r.Err, r.Stderr)
		}
	})

	t.Run("scale", func(t *testing.T) {
		k.MustRun("scale", "warmpool", "python-pool", "--replicas=5")
		if got := k.MustRun("get", "warmpool", "python-pool", "-o", "jsonpath={.spec.replicas}"); got != "5" {
			t.Errorf("replicas after scale = %q, want 5", got)
		}
		r := k.Run("", "scale", "warmpool", "python-pool", "--replicas=-1")
		if r.Err == nil {
			t.Errorf("scaling to -1 succeeded:\n%s", r.Stdout)
		}
	})

	t.Run("server-side apply", func(t *testing.T) {
		k.MustRun("apply", "--server-side", "--field-manager=ssa-test", "-f", filepath.Join(dir, "warmpool.yaml"), "--force-conflicts")
		if got := k.MustRun("get", "warmpool", "python-pool", "-o", "jsonpath={.spec.replicas}"); got != "3" {
			t.Errorf("replicas after server-side apply = %q, want 3", got)
		}
		managers := k.MustRun("get", "warmpool", "python-pool", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")
		if !strings.Contains(managers, "ssa-test") {
			t.Errorf("managed fields lack the apply manager: %q", managers)
		}
		// Status is not the user's to apply: the main resource resets it.
		r := k.Run(`apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata: {name: ssa-pool}
spec:
  replicas: 2
  template: {spec: {containers: [{name: executor, image: python:3.9-slim}]}}
status: {readyReplicas: 9}
`, "apply", "--server-side", "-f", "-")
		if r.Err != nil {
			t.Fatalf("server-side apply: %v\n%s", r.Err, r.Stderr)
		}
		if got := k.MustRun("get", "warmpool", "ssa-pool", "-o", "jsonpath={.spec.replicas}/{.status.readyReplicas}"); got != "2/0" {
			t.Errorf("spec.replicas/status.readyReplicas after applying a status = %q, want 2/0", got)
		}
		k.MustRun("delete", "warmpool", "ssa-pool")
	})

	t.Run("delete", func(t *testing.T) {
		k.MustRun("delete", "-f", dir)
		if out := k.MustRun("get", "arl", "-o", "name"); out != "" {
			t.Errorf("objects left after delete:\n%s", out)
		}
	})
}

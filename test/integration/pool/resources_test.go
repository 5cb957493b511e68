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
	"strings"
	"testing"
	"time"

	"github.com/arl-infra/arl/test/integration/framework"
)

// resourcesPoolYAML's executor may use 512Mi; its pods are reset and
// returned to the pool when their Sandbox goes.
const resourcesPoolYAML = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: sized
spec:
  replicas: 2
  reusePolicy: Reset
  template:
    spec:
      containers:
        - name: executor
          image: python:3.9-slim
          command: ["sleep", "infinity"]
          resources:
            limits:
              memory: 512Mi
`

// TestSandboxResources: the manual's Sandbox.spec.resources, applied with
// kubectl's strict validation, bounds the Sandbox it is set on (a 256 MiB
// allocation is OOM-killed under 64Mi, and succeeds in a Sandbox of the
// same pool without it); resources that do not fit the pool's template or
// cannot be resized are 422s naming the field; they cannot change after
// create; and a resized pod is deleted when its Sandbox goes, while an
// unresized one of the same Reset pool is returned to it.
func TestSandboxResources(t *testing.T) {
	e := newEnv(t)
	k := e.server.Kubectl()
	apply := func(y string) framework.Result {
		t.Helper()
		return k.Run(y, "apply", "--validate=strict", "-f", "-")
	}
	if r := apply(resourcesPoolYAML); r.Err != nil {
		t.Fatalf("kubectl apply: %v\n%s", r.Err, r.Stderr)
	}
	e.waitPool("sized", "2 idle pods Ready", readyIdle(2))
	sandboxYAML := func(name, resources string) string {
		y := "apiVersion: arl.infra.io/v1alpha1\nkind: Sandbox\nmetadata:\n  name: " + name + "\nspec:\n  poolRef: sized\n  keepAlive: true\n"
		if resources != "" {
			y += "  resources:\n" + resources
		}
		return y
	}
	small := "    requests:\n      cpu: 100m\n    limits:\n      cpu: 500m\n      memory: 64Mi\n"
	if r := apply(sandboxYAML("small", small)); r.Err != nil {
		t.Fatalf("kubectl apply of a Sandbox with resources: %v\n%s", r.Err, r.Stderr)
	}
	if r := apply(sandboxYAML("plain", "")); r.Err != nil {
		t.Fatalf("kubectl apply: %v\n%s", r.Err, r.Stderr)
	}
	for _, name := range []string{"small", "plain"} {
		k.MustRun("wait", "--for=jsonpath={.status.phase}=Ready", "sandbox/"+name, "--timeout=120s")
	}
	if got := k.MustRun("get", "sandbox", "small", "-o", "jsonpath={.spec.resources.limits.memory}"); got != "64Mi" {
		t.Errorf("stored spec.resources.limits.memory %q, want 64Mi", got)
	}

	allocate := func(task, sandbox string) (state, reason string) {
		t.Helper()
		y := "apiVersion: arl.infra.io/v1alpha1\nkind: Task\nmetadata:\n  name: " + task + "\nspec:\n  sandboxRef: " + sandbox +
			"\n  steps:\n    - name: allocate\n      type: Command\n      command: [\"python3\", \"-c\", \"b = b'x' * (256 << 20); print('allocated', len(b))\"]\n"
		if r := apply(y); r.Err != nil {
			t.Fatalf("kubectl apply: %v\n%s", r.Err, r.Stderr)
		}
		framework.Eventually(t, 2*time.Minute, "Task "+task+" finished", func() bool {
			s := k.MustRun("get", "task", task, "-o", "jsonpath={.status.state}")
			return s == "Succeeded" || s == "Failed"
		})
		return k.MustRun("get", "task", task, "-o", "jsonpath={.status.state}"),
			k.MustRun("get", "task", task, "-o", `jsonpath={.status.conditions[?(@.type=="Complete")].reason}`)
	}
	if state, reason := allocate("hog-small", "small"); state != "Failed" || reason != "OOMKilled" {
		t.Errorf("256 MiB in the Sandbox limited to 64Mi: %s (%s), want Failed (OOMKilled)", state, reason)
	}
	if state, reason := allocate("hog-plain", "plain"); state != "Succeeded" {
		t.Errorf("256 MiB in a Sandbox of the 512Mi pool: %s (%s), want Succeeded", state, reason)
	}

	for _, tc := range []struct{ name, resources, want string }{
		{"too-big", "    requests:\n      memory: 1Gi\n",
			`spec.resources.requests[memory]: Invalid value: "1Gi": must be less than or equal to the memory limit 512Mi of WarmPool "sized"'s executor`},
		{"disk", "    limits:\n      ephemeral-storage: 1Gi\n", `spec.resources.limits[ephemeral-storage]: Unsupported value: "ephemeral-storage"`},
	} {
		r := apply(sandboxYAML(tc.name, tc.resources))
		if r.Err == nil || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("Sandbox %s: err %v, stderr %q; want a 422 with %q", tc.name, r.Err, r.Stderr, tc.want)
		}
	}
	r := k.Run("", "patch", "sandbox", "small", "--type=merge", "-p", `{"spec":{"resources":{"limits":{"memory":"128Mi"}}}}`)
	if r.Err == nil || !strings.Contains(r.Stderr, "spec.resources: Invalid value") || !strings.Contains(r.Stderr, "field is immutable") {
		t.Errorf("changing a Sandbox's resources: err %v, stderr %q; want field is immutable", r.Err, r.Stderr)
	}

	smallPod := k.MustRun("get", "sandbox", "small", "-o", "jsonpath={.status.podName}")
	plainPod := k.MustRun("get", "sandbox", "plain", "-o", "jsonpath={.status.podName}")
	k.MustRun("delete", "sandbox", "small", "plain")
	framework.Eventually(t, 2*time.Minute, "the resized pod deleted, the other returned idle", func() bool {
		pods := e.pods()
		_, resizedKept := pods[smallPod]
		return !resizedKept && pods[plainPod].State == "idle"
	})
}

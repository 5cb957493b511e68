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
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/test/integration/framework"
)

// sdkTaskYAML is a Task as the manual's SDK writes it: every step names a
// container, and the Task carries a traceID.
const sdkTaskYAML = `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: sdk-task
spec:
  sandboxRef: my-workspace
  traceID: 4bf92f3577b34da6a3ce929d0e0e4736
  steps:
    - name: write
      type: FilePatch
      path: /workspace/hello.py
      content: print("hello")
      container: sidecar
    - name: run
      type: Command
      command: ["python", "/workspace/hello.py"]
      container: executor
    - name: where
      type: Command
      command: ["pwd"]
`

// TestSDKTaskFields: `kubectl apply` (strict) takes the manual SDK's
// steps[].container and traceID; every step runs in the executor, the
// traceID is stored and the Task's log lines and Event name it; an unknown
// container is a 422 at its field path.
func TestSDKTaskFields(t *testing.T) {
	// --task-events=all: a succeeded Task's Event carries its traceID too.
	e := newEnvWith(t, []string{"--v=2", "--task-events=all"}, 1, "my-workspace")
	k := e.server.Kubectl()

	if r := k.Run(sdkTaskYAML, "apply", "--validate=strict", "-f", "-"); r.Err != nil {
		t.Fatalf("kubectl apply: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	k.MustRun("wait", "--for=jsonpath={.status.state}=Succeeded", "task/sdk-task", "--timeout=120s")
	if got := k.MustRun("get", "task", "sdk-task", "-o", "jsonpath={.status.stdout}"); got != "hello\n/workspace\n" {
		t.Errorf("stdout %q, want hello and /workspace", got)
	}
	if got := k.MustRun("get", "task", "sdk-task", "-o", "jsonpath={.spec.traceID} {.spec.steps[*].container}"); got != "4bf92f3577b34da6a3ce929d0e0e4736 sidecar executor" {
		t.Errorf("stored traceID and containers %q", got)
	}
	// The manual's SDK reads each step's output from status.steps[].
	task, err := e.arl.Tasks(ns).Get(e.ctx, "sdk-task", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var perStep []string
	for _, step := range task.Status.Steps {
		perStep = append(perStep, step.Name+"="+step.Stdout)
	}
	if want := []string{"write=", "run=hello\n", "where=/workspace\n"}; !slices.Equal(perStep, want) {
		t.Errorf("per-step stdout %q, want %q", perStep, want)
	}
	// The line follows the result's write, which kubectl wait may see first.
	framework.Eventually(t, 30*time.Second, "the server logs the Task's end with its traceID", func() bool {
		return strings.Contains(e.server.Logs(), `"Task finished" task="default/sdk-task" traceID="4bf92f3577b34da6a3ce929d0e0e4736"`)
	})
	framework.Eventually(t, 30*time.Second, "the Task's Event names its traceID", func() bool {
		return strings.Contains(k.MustRun("describe", "task", "sdk-task"), "(traceID 4bf92f3577b34da6a3ce929d0e0e4736)")
	})

	bad := strings.NewReplacer("name: sdk-task", "name: bad-task", "container: executor", "container: gpu").Replace(sdkTaskYAML)
	r := k.Run(bad, "apply", "--validate=strict", "-f", "-")
	if r.Err == nil || !strings.Contains(r.Stderr, "spec.steps[1].container") || !strings.Contains(r.Stderr, `Unsupported value: "gpu"`) {
		t.Errorf("an unknown container: err %v, stderr %q, want a 422 at spec.steps[1].container", r.Err, r.Stderr)
	}
}

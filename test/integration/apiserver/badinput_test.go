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
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"

	"github.com/arl-infra/arl/test/integration/framework"
)

// TestBadInputIsRefused sends invalid objects: each gets a 422 naming the
// field, and nothing is stored.
func TestBadInputIsRefused(t *testing.T) {
	server := framework.StartStandalone(t)
	k := server.Kubectl()

	tests := []struct {
		name     string
		kind     string
		manifest string
		fields   []string
	}{
		{"unknown step type", "task", `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata: {name: bad}
spec:
  sandboxRef: my-workspace
  steps: [{name: a, type: Shell, command: ["true"]}]
`, []string{`spec.steps[0].type: Unsupported value: "Shell"`}},
		{"FilePatch without path, Command without command, duplicate names", "task", `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata: {name: bad}
spec:
  sandboxRef: my-workspace
  steps:
  - {name: a, type: FilePatch, content: x}
  - {name: a, type: Command}
`, []string{"spec.steps[0].path: Required value", "spec.steps[1].name: Duplicate value", "spec.steps[1].command: Required value"}},
		{"negative retries and ttl, zero timeout, empty sandboxRef", "task", `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata: {name: bad}
spec:
  sandboxRef: ""
  timeout: 0s
  retries: -1
  ttlSecondsAfterFinished: -5
  steps: [{name: a, type: Command, command: ["true"]}]
`, []string{"spec.sandboxRef: Required value", "spec.timeout: Invalid value", "spec.retries: Invalid value", "spec.ttlSecondsAfterFinished: Invalid value"}},
		{"pool name that is not a DNS-1123 label, negative replicas", "warmpool", `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata: {name: python-3.9-std}
spec:
  replicas: -1
  template: {spec: {containers: [{name: executor, image: python:3.9-slim}]}}
`, []string{"metadata.name: Invalid value", "spec.replicas: Invalid value"}},
		{"empty poolRef and bad timeouts", "sandbox", `apiVersion: arl.infra.io/v1alpha1
kind: Sandbox
metadata: {name: bad}
spec:
  poolRef: ""
  idleTimeoutSeconds: 0
  maxLifetimeSeconds: -1
`, []string{"spec.poolRef: Required value", "spec.idleTimeoutSeconds: Invalid value", "spec.maxLifetimeSeconds: Invalid value"}},
		{"unknown field", "task", `apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata: {name: bad}
spec:
  sandboxRef: my-workspace
  stepz: []
`, []string{`unknown field "spec.stepz"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := k.Run(tc.manifest, "apply", "-f", "-")
			if r.Err == nil {
				t.Fatalf("apply succeeded:\n%s", r.Stdout)
			}
			for _, want := range tc.fields {
				if !strings.Contains(r.Stderr, want) {
					t.Errorf("error lacks %q:\n%s", want, r.Stderr)
				}
			}
			if out := k.MustRun("get", tc.kind, "-o", "name"); out != "" {
				t.Errorf("something was stored: %s", out)
			}
		})
	}

	r := k.Run(`{"apiVersion":"arl.infra.io/v1alpha1","kind":"Task","metadata":{"name":"raw"},"spec":{"sandboxRef":"x","steps":[]}}`,
		"create", "--raw", "/apis/arl.infra.io/v1alpha1/namespaces/default/tasks", "-f", "-")
	if r.Err == nil || !strings.Contains(r.Stderr, `The Task "raw" is invalid: spec.steps: Required value`) {
		t.Errorf("raw create of an invalid Task: err=%v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	if r := k.Run("", "get", "task", "missing"); r.Err == nil || !strings.Contains(r.Stderr, `tasks.arl.infra.io "missing" not found`) {
		t.Errorf("get of a missing Task: err=%v\n%s", r.Err, r.Stderr)
	}
	k.MustRun("apply", "-f", examplesDir(t))
	if r := k.Run("", "create", "-f", examplesDir(t)+"/task.yaml"); r.Err == nil || !strings.Contains(r.Stderr, "AlreadyExists") {
		t.Errorf("creating an existing Task: err=%v\n%s", r.Err, r.Stderr)
	}
	// Changing what a Task runs after the fact is refused; the stored Task is kept.
	r = k.Run("", "patch", "task", "hello-task", "--type=json", "-p", `[{"op":"replace","path":"/spec/steps/1/command","value":["rm","-rf","/"]}]`)
	if r.Err == nil || !strings.Contains(r.Stderr, "spec.steps: Invalid value") {
		t.Errorf("patching a Task's steps: err=%v\n%s", r.Err, r.Stderr)
	}
	if got := k.MustRun("get", "task", "hello-task", "-o", "jsonpath={.spec.steps[1].command[0]}"); got != "python" {
		t.Errorf("stored command changed to %q", got)
	}
}

// TestProtobufClientsGetJSON: ARL's types have no protobuf form; a client
// that prefers protobuf (kube-controller-manager's namespace controller
// deleting a namespace's objects) must get JSON, not a 406.
func TestProtobufClientsGetJSON(t *testing.T) {
	server := framework.StartStandalone(t)
	k := server.Kubectl()
	k.MustRun("apply", "-f", examplesDir(t)+"/task.yaml")
	rc, err := rest.RESTClientFor(withJSONCodec(server.RESTConfig()))
	if err != nil {
		t.Fatal(err)
	}
	body, err := rc.Delete().AbsPath("/apis/arl.infra.io/v1alpha1/namespaces/default/tasks").
		SetHeader("Accept", "application/vnd.kubernetes.protobuf, */*").DoRaw(context.Background())
	if err != nil || !strings.Contains(string(body), `"kind":"TaskList"`) {
		t.Fatalf("delete-collection preferring protobuf: %v %.200s", err, body)
	}
	if out := k.MustRun("get", "tasks", "-o", "name"); out != "" {
		t.Errorf("tasks left: %s", out)
	}
}

func withJSONCodec(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.GroupVersion = &arlv1alpha1.SchemeGroupVersion
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return cfg
}

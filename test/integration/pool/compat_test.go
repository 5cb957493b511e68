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
	"strconv"
	"strings"
	"testing"
)

// sdkPoolYAML is the pool the manual's SDK (WarmPoolManager.create_warmpool)
// writes: the executor plus a sidecar container of its own, which ARL's
// sidecar replaces.
const sdkPoolYAML = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: sdk-pool
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: executor
          image: python:3.9-slim
          command: ["/bin/sh", "-c", "sleep infinity"]
          volumeMounts:
            - name: workspace
              mountPath: /workspace
        - name: sidecar
          image: arl-sidecar:latest
          imagePullPolicy: Always
          ports:
            - name: http
              containerPort: 8080
            - name: grpc
              containerPort: 9090
          volumeMounts:
            - name: workspace
              mountPath: /workspace
      volumes:
        - name: workspace
          emptyDir: {}
`

// TestPoolWithItsOwnSidecar: `kubectl apply` (strict) of the manual's pool
// with its own sidecar container succeeds with a warning, the stored pool
// is what the user wrote, and its pods bind and run Tasks.
func TestPoolWithItsOwnSidecar(t *testing.T) {
	e := newEnv(t)
	k := e.server.Kubectl()

	r := k.Run(sdkPoolYAML, "apply", "--validate=strict", "-f", "-")
	if r.Err != nil {
		t.Fatalf("kubectl apply: %v\n%s%s", r.Err, r.Stdout, r.Stderr)
	}
	const warning = `Warning: spec.template.spec.containers[1]: ARL's own "sidecar" container replaces this one in the pool's pods; nothing of it runs`
	if !strings.Contains(r.Stderr, warning) {
		t.Errorf("kubectl apply stderr lacks the warning %q:\n%s", warning, r.Stderr)
	}
	if got := k.MustRun("get", "warmpool", "sdk-pool", "-o", "jsonpath={.spec.template.spec.containers[*].name} {.spec.template.spec.containers[1].ports[*].containerPort}"); got != "executor sidecar 8080 9090" {
		t.Errorf("stored containers and sidecar ports %q, want the user's", got)
	}
	e.waitPool("sdk-pool", "1 idle pod Ready", readyIdle(1))

	r = k.Run(`apiVersion: arl.infra.io/v1alpha1
kind: Sandbox
metadata:
  name: sdk-workspace
spec:
  poolRef: sdk-pool
  keepAlive: true
`, "apply", "--validate=strict", "-f", "-")
	if r.Err != nil {
		t.Fatalf("kubectl apply sandbox: %v\n%s", r.Err, r.Stderr)
	}
	k.MustRun("wait", "--for=jsonpath={.status.phase}=Ready", "sandbox/sdk-workspace", "--timeout=120s")
	r = k.Run(`apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata:
  name: sdk-task
spec:
  sandboxRef: sdk-workspace
  timeout: 30s
  steps:
    - name: write
      type: FilePatch
      path: /workspace/hello.txt
      content: hello
    - name: read
      type: Command
      command: ["cat", "/workspace/hello.txt"]
`, "apply", "--validate=strict", "-f", "-")
	if r.Err != nil {
		t.Fatalf("kubectl apply task: %v\n%s", r.Err, r.Stderr)
	}
	k.MustRun("wait", "--for=jsonpath={.status.state}=Succeeded", "task/sdk-task", "--timeout=120s")
	if got := k.MustRun("get", "task", "sdk-task", "-o", "jsonpath={.status.stdout}"); got != "hello" {
		t.Errorf("stdout %q, want hello", got)
	}

	// An update answers with the warning too.
	r = k.Run(strings.Replace(sdkPoolYAML, "replicas: 1", "replicas: 2", 1), "apply", "--validate=strict", "-f", "-")
	if r.Err != nil || !strings.Contains(r.Stderr, warning) {
		t.Errorf("kubectl apply of an update: %v, stderr lacks the warning:\n%s", r.Err, r.Stderr)
	}
}

// testbedPoolYAML mounts emptyDir volumes where the manual's examples work
// (/testbed, with the SDK's testbed_path) and a Secret, which a standalone
// sandbox cannot provide.
const testbedPoolYAML = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata:
  name: testbed-pool
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: executor
          image: python:3.9-slim
          command: ["sleep", "infinity"]
          volumeMounts:
            - name: workspace
              mountPath: /workspace
            - name: testbed
              mountPath: /testbed
            - name: cache
              mountPath: /workspace/.cache
              subPath: pip
            - name: token
              mountPath: /etc/token
      volumes:
        - name: workspace
          emptyDir: {}
        - name: testbed
          emptyDir: {}
        - name: cache
          emptyDir: {}
        - name: token
          secret:
            secretName: token
`

// TestEmptyDirVolumesInStandalone: a standalone sandbox mounts each of its
// executor's emptyDir volumes where the template says, its own per
// sandbox; a volume kind it cannot provide is named in a warning.
func TestEmptyDirVolumesInStandalone(t *testing.T) {
	e := newEnv(t)
	k := e.server.Kubectl()
	r := k.Run(testbedPoolYAML, "apply", "--validate=strict", "-f", "-")
	if r.Err != nil {
		t.Fatalf("kubectl apply: %v\n%s", r.Err, r.Stderr)
	}
	const warning = `Warning: spec.template.spec.containers[0].volumeMounts[3]: volume "token" is not an emptyDir: standalone sandboxes mount only emptyDir volumes, so /etc/token is not mounted`
	if !strings.Contains(r.Stderr, warning) || strings.Count(r.Stderr, "Warning:") != 1 {
		t.Errorf("kubectl apply stderr: want only the warning %q:\n%s", warning, r.Stderr)
	}
	e.waitPool("testbed-pool", "2 idle pods Ready", readyIdle(2))

	sandboxYAML := func(name string) string {
		return "apiVersion: arl.infra.io/v1alpha1\nkind: Sandbox\nmetadata:\n  name: " + name + "\nspec:\n  poolRef: testbed-pool\n  keepAlive: true\n"
	}
	taskYAML := func(name, sandbox, script string) string {
		return "apiVersion: arl.infra.io/v1alpha1\nkind: Task\nmetadata:\n  name: " + name + "\nspec:\n  sandboxRef: " + sandbox +
			"\n  steps:\n    - name: run\n      type: Command\n      workDir: /testbed\n      command: [\"sh\", \"-c\", " + strconv.Quote(script) + "]\n"
	}
	apply := func(y string) {
		t.Helper()
		if r := k.Run(y, "apply", "--validate=strict", "-f", "-"); r.Err != nil {
			t.Fatalf("kubectl apply: %v\n%s", r.Err, r.Stderr)
		}
	}
	run := func(name, sandbox, script string) string {
		t.Helper()
		apply(taskYAML(name, sandbox, script))
		k.MustRun("wait", "--for=jsonpath={.status.state}=Succeeded", "task/"+name, "--timeout=120s")
		return k.MustRun("get", "task", name, "-o", "jsonpath={.status.stdout}")
	}
	for _, name := range []string{"first", "second"} {
		apply(sandboxYAML(name))
		k.MustRun("wait", "--for=jsonpath={.status.phase}=Ready", "sandbox/"+name, "--timeout=120s")
	}
	if got := run("write", "first", "pwd; echo kept > data; echo pip > /workspace/.cache/x; ls -d /etc/token 2>&1 || true"); !strings.HasPrefix(got, "/testbed\n") {
		t.Errorf("a Command with workDir /testbed printed %q", got)
	}
	if got := run("read", "first", "cat data /workspace/.cache/x"); got != "kept\npip\n" {
		t.Errorf("the volumes kept across Tasks: %q, want kept and pip", got)
	}
	if got := run("other", "second", "ls -A; ls -A /workspace/.cache"); got != "" {
		t.Errorf("another sandbox of the pool sees %q in its volumes, want them empty", got)
	}
}

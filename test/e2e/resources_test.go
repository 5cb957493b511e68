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

package e2e

import (
	"strings"
	"testing"
)

const sizedSandboxYAML = `apiVersion: arl.infra.io/v1alpha1
kind: Sandbox
metadata:
  name: sized
spec:
  poolRef: python-pool
  keepAlive: true
  resources:
    requests:
      cpu: 100m
    limits:
      cpu: 500m
      memory: 128Mi
`

// TestSandboxResourcesResizeThePod: a Sandbox's spec.resources (applied
// with kubectl's strict validation) resize its warm pod in place through
// pods/resize: the Sandbox is Ready once the kubelet runs the executor
// with them, so its first Task already sees its cgroup limits and a
// 256 MiB allocation is OOM-killed; the pod stays Burstable; when the
// Sandbox goes the resized pod is deleted and the pool makes a fresh one.
func TestSandboxResourcesResizeThePod(t *testing.T) {
	ns := newNamespace(t, "resize")
	createPool(t, ns, 1)
	waitPool(t, ns, poolName, 1, 0)

	kubectlIn(t, sizedSandboxYAML, "apply", "--validate=strict", "-n", ns, "-f", "-")
	sb := waitSandbox(t, ns, "sized", "Ready")
	pod := sb.Status.PodName
	jsonpath := func(path string) string {
		return kubectl(t, "get", "pod", pod, "-n", ns, "-o", "jsonpath="+path)
	}
	for _, c := range []struct{ path, want string }{
		{`{.spec.containers[?(@.name=="executor")].resources.limits.memory}`, "128Mi"},
		{`{.spec.containers[?(@.name=="executor")].resources.requests.cpu}`, "100m"},
		{`{.status.containerStatuses[?(@.name=="executor")].resources.limits.memory}`, "128Mi"},
		{`{.status.qosClass}`, "Burstable"},
	} {
		if got := jsonpath(c.path); got != c.want {
			t.Errorf("pod %s: %s = %q, want %q", pod, c.path, got, c.want)
		}
	}

	// The memory limit and the CFS quota (µs per 100 ms period), on cgroup
	// v2 or v1, whichever the node runs.
	limits := execTask(t, ns, newTask("limits", "sized", bash("read", `cd /sys/fs/cgroup
if [ -f memory.max ]; then cat memory.max; cut -d' ' -f1 cpu.max
else cat memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us; fi`)))
	mustState(t, limits, "Succeeded")
	if want := "134217728\n50000\n"; limits.Status.Stdout != want {
		t.Errorf("the executor's cgroup limits in its first Task: %q, want %q", limits.Status.Stdout, want)
	}
	hog := execTask(t, ns, newTask("hog", "sized",
		command("allocate", "python", "-c", "b = b'x' * (256 << 20); print('allocated', len(b))")))
	if hog.Status.State != "Failed" || hog.reason() != "OOMKilled" || strings.Contains(hog.Status.Stdout, "allocated") {
		t.Errorf("256 MiB under a 128Mi limit: %s, want Failed OOMKilled", hog)
	}

	kubectl(t, "delete", "sandbox", "sized", "-n", ns)
	waitFor(t, waitPodsTimeout, "the resized pod deleted, a fresh idle one in its place", func() (bool, string) {
		pods, err := tryPoolPods(ns, poolName)
		if err != nil {
			return false, err.Error()
		}
		_, kept := pods[pod]
		return !kept && len(pods) == 1, strings.Join(keys(pods), " ")
	})
	waitPool(t, ns, poolName, 1, 0)
}

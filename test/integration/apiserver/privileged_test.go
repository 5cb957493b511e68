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
	"strings"
	"testing"

	"github.com/arl-infra/arl/test/integration/framework"
)

const hostNetworkPool = `apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata: {name: host-pool}
spec:
  replicas: 0
  template:
    spec:
      hostNetwork: true
      containers: [{name: executor, image: python:3.9-slim, command: [sleep, infinity]}]
`

// TestPrivilegedPoolNamespacesFlag: arl-apiserver --privileged-pool-namespaces
// reaches WarmPool validation: a template asking for the node's network is
// a 422 naming the field, except in the namespaces the flag lists.
func TestPrivilegedPoolNamespacesFlag(t *testing.T) {
	server := framework.StartStandalone(t, "--privileged-pool-namespaces=trusted,gpu")
	k := server.Kubectl()

	r := k.Run(hostNetworkPool, "create", "-n", "default", "-f", "-")
	if r.Err == nil || !strings.Contains(r.Stderr, `The WarmPool "host-pool" is invalid: spec.template.spec.hostNetwork: Forbidden`) ||
		!strings.Contains(r.Stderr, "--privileged-pool-namespaces") {
		t.Errorf("create in default: err=%v\n%s", r.Err, r.Stderr)
	}
	if r := k.Run(hostNetworkPool, "create", "-n", "trusted", "-f", "-"); r.Err != nil {
		t.Fatalf("create in trusted: %v\n%s", r.Err, r.Stderr)
	}
	if got := k.MustRun("get", "warmpool", "host-pool", "-n", "trusted", "-o", "jsonpath={.spec.template.spec.hostNetwork} {.spec.network.egress.mode}"); got != "true Internet" {
		t.Errorf("the pool in trusted: %q, want hostNetwork true and the default egress mode", got)
	}

	// A bad egress rule is a 422 naming its field too.
	r = k.Run(strings.Replace(hostNetworkPool, "spec:\n  replicas: 0", "spec:\n  replicas: 0\n  network: {egress: {mode: DenyAll, allow: [{cidr: 10.0.0.1/8}]}}", 1),
		"create", "-n", "gpu", "-f", "-")
	for _, want := range []string{"spec.network.egress.allow: Forbidden", "spec.network.egress.allow[0].cidr: Invalid value"} {
		if r.Err == nil || !strings.Contains(r.Stderr, want) {
			t.Errorf("bad egress: want %q: err=%v\n%s", want, r.Err, r.Stderr)
		}
	}
}

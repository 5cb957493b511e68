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

// TestRestartKeepsEveryObject restarts the standalone server on its data
// directory: every object and the admin kubeconfig keep working.
func TestRestartKeepsEveryObject(t *testing.T) {
	server := framework.StartStandalone(t)
	k := server.Kubectl()
	k.MustRun("apply", "-f", examplesDir(t))
	before := k.MustRun("get", "arl", "-o", "custom-columns=KIND:.kind,NAME:.metadata.name,UID:.metadata.uid", "--no-headers")

	server.Stop()
	server.Start()

	after := k.MustRun("get", "arl", "-o", "custom-columns=KIND:.kind,NAME:.metadata.name,UID:.metadata.uid", "--no-headers")
	if before != after || strings.Count(after, "\n") != 3 {
		t.Errorf("objects changed across a restart:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

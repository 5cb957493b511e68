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
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/arl-infra/arl/test/integration/framework"
)

// TestPythonKubernetesClient runs python/test_*.py with Debian's
// python3-kubernetes (CustomObjectsApi) against a standalone server.
func TestPythonKubernetesClient(t *testing.T) {
	server := framework.StartStandalone(t)
	root, err := framework.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	// /usr/bin/python3: the pyenv python first on PATH cannot see Debian's packages.
	cmd := exec.Command("/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
		filepath.Join(root, "test", "integration", "apiserver", "python"))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+server.Kubeconfig, "ARL_EXAMPLES="+examplesDir(t))
	out, err := cmd.CombinedOutput()
	t.Logf("pytest:\n%s", out)
	if err != nil {
		// Exit code 5 (no tests collected) fails too.
		t.Fatalf("pytest failed: %v", err)
	}
}

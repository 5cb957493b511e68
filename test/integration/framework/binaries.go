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

// Package framework starts the real ARL binaries for integration tests and
// drives them with the real kubectl.
package framework

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// Binary returns the path of an ARL command (arl-apiserver, arl-sidecar,
// kubectl-arl): $ARL_APISERVER_BIN, $ARL_SIDECAR_BIN, $ARL_KUBECTL_ARL_BIN
// when set (hack/test.sh builds them once), else a build of the current
// tree shared by the test binary.
func Binary(name string) (string, error) {
	env := "ARL_" + strings.ToUpper(strings.TrimPrefix(strings.ReplaceAll(name, "-", "_"), "arl_")) + "_BIN"
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "arl-integration-bin-")
		if buildErr != nil {
			return
		}
		root, err := ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command("go", "build", "-trimpath", "-o", buildDir+"/", "./cmd/arl-apiserver", "./cmd/arl-sidecar", "./cmd/kubectl-arl")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building ARL binaries: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		return "", buildErr
	}
	return filepath.Join(buildDir, name), nil
}

// ModuleRoot is the repository's root directory.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the ARL module")
	}
	return filepath.Dir(gomod), nil
}

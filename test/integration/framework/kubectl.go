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

package framework

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// KubectlPath is the kubectl users have; tests drive the API with it.
const KubectlPath = "/usr/bin/kubectl"

// Kubectl runs the real kubectl against one kubeconfig.
type Kubectl struct {
	t          testing.TB
	kubeconfig string
	cacheDir   string
}

// NewKubectl returns a kubectl with its own discovery cache.
func NewKubectl(t testing.TB, kubeconfig string) *Kubectl {
	return &Kubectl{t: t, kubeconfig: kubeconfig, cacheDir: t.TempDir()}
}

// Result is what one kubectl run printed.
type Result struct {
	Stdout, Stderr string
	Err            error
}

// Run runs kubectl with args and stdin, and returns what it printed.
func (k *Kubectl) Run(stdin string, args ...string) Result {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, KubectlPath, append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", k.cacheDir}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return Result{Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// MustRun runs kubectl and fails the test unless it succeeds; it returns stdout.
func (k *Kubectl) MustRun(args ...string) string {
	k.t.Helper()
	r := k.Run("", args...)
	if r.Err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), r.Err, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Start runs kubectl in the background (e.g. `get -w`); the caller reads its output.
func (k *Kubectl) Start(ctx context.Context, args ...string) (*exec.Cmd, *SyncBuffer) {
	k.t.Helper()
	cmd := exec.CommandContext(ctx, KubectlPath, append([]string{"--kubeconfig", k.kubeconfig, "--cache-dir", k.cacheDir}, args...)...)
	out := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd, out
}

func withNegotiatedSerializer(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.NegotiatedSerializer = serializer.NewCodecFactory(scheme.Scheme).WithoutConversion()
	return cfg
}

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

package options

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSidecarBinary: where standalone mode finds the arl-sidecar its
// sandboxes run: --sidecar-binary (made absolute, as sandboxes bind it
// from another directory), else on PATH, else a message saying what to do.
func TestSidecarBinary(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if fileExists(filepath.Join(filepath.Dir(self), "arl-sidecar")) {
		t.Skip("an arl-sidecar lies next to the test binary and would be found first")
	}
	onPath := t.TempDir()
	sidecar := filepath.Join(onPath, "arl-sidecar")
	if err := os.WriteFile(sidecar, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	wd := t.TempDir()
	t.Chdir(wd)
	cases := []struct {
		name    string
		flag    string
		path    string
		want    string
		wantErr string
	}{
		{name: "flag, relative", flag: "bin/arl-sidecar", path: onPath, want: filepath.Join(wd, "bin/arl-sidecar")},
		{name: "flag, absolute", flag: "/opt/arl/arl-sidecar", path: onPath, want: "/opt/arl/arl-sidecar"},
		{name: "on PATH", path: onPath, want: sidecar},
		{name: "nowhere", path: t.TempDir(), wantErr: "pass --sidecar-binary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("PATH", c.path)
			got, err := (&PoolOptions{SidecarBinary: c.flag}).sidecarBinary()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %q, %v; want an error with %q", got, err, c.wantErr)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// TestNamespaceFromEnv: in a pod the server's namespace comes from the
// downward API's POD_NAMESPACE; elsewhere it is the install's default.
func TestNamespaceFromEnv(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "arl-staging")
	if got := namespaceFromEnv(); got != "arl-staging" {
		t.Errorf("with POD_NAMESPACE=arl-staging: %q", got)
	}
	t.Setenv("POD_NAMESPACE", "")
	if got := namespaceFromEnv(); got != "arl-system" {
		t.Errorf("without POD_NAMESPACE: %q, want arl-system", got)
	}
}

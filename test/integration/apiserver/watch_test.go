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
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

// TestKubectlWatch is the manual's `kubectl get sandbox my-workspace -w`:
// a status change shows up as a new row.
func TestKubectlWatch(t *testing.T) {
	server := framework.StartStandalone(t)
	k := server.Kubectl()
	k.MustRun("apply", "-f", examplesDir(t)+"/sandbox.yaml")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, out := k.Start(ctx, "get", "sandbox", "my-workspace", "-w")
	framework.WaitForOutput(t, out, "my-workspace", 30*time.Second)

	cs := server.Clientset().ArlV1alpha1()
	sandbox, err := cs.Sandboxes("default").Get(ctx, "my-workspace", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sandbox.Status.Phase = arlv1alpha1.SandboxFailed
	sandbox.Status.PodName = "watched-pod"
	if _, err := cs.Sandboxes("default").UpdateStatus(ctx, sandbox, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.WaitForOutput(t, out, "watched-pod", 30*time.Second)
}

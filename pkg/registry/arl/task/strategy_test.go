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

package task

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/registrytest"
)

func task() *arl.Task {
	return &arl.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "t", Namespace: "default", ResourceVersion: "1"},
		Spec: arl.TaskSpec{SandboxRef: "sb", Steps: []arl.TaskStep{
			{Name: "run", Type: arl.StepCommand, Command: []string{"true"}},
		}},
	}
}

func TestPrepareForCreateResetsStatus(t *testing.T) {
	strategy := NewStrategy(registrytest.NewScheme())
	obj := task()
	obj.Status = arl.TaskStatus{State: arl.TaskSucceeded, Stdout: "forged", ExitCode: ptr.To[int32](0)}
	strategy.PrepareForCreate(context.Background(), obj)
	if diff := cmp.Diff(arl.TaskStatus{State: arl.TaskPending}, obj.Status); diff != "" {
		t.Errorf("status after create (-want +got):\n%s", diff)
	}
	if obj.Generation != 1 {
		t.Errorf("generation = %d, want 1", obj.Generation)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	strategy := NewStrategy(registrytest.NewScheme())
	old := task()
	old.Generation = 1
	old.Status = arl.TaskStatus{State: arl.TaskRunning, Stdout: "partial"}

	metaOnly := old.DeepCopy()
	metaOnly.Labels = map[string]string{"a": "b"}
	metaOnly.Status = arl.TaskStatus{}
	strategy.PrepareForUpdate(context.Background(), metaOnly, old)
	if metaOnly.Generation != 1 || metaOnly.Status.Stdout != "partial" {
		t.Errorf("metadata update: generation=%d stdout=%q, want 1 and the stored status", metaOnly.Generation, metaOnly.Status.Stdout)
	}

	specChange := old.DeepCopy()
	specChange.Spec.TTLSecondsAfterFinished = ptr.To[int32](10)
	strategy.PrepareForUpdate(context.Background(), specChange, old)
	if specChange.Generation != 2 {
		t.Errorf("spec update: generation=%d, want 2", specChange.Generation)
	}
}

func TestStatusStrategyKeepsSpec(t *testing.T) {
	status := NewStatusStrategy(NewStrategy(registrytest.NewScheme()))
	old := task()
	obj := old.DeepCopy()
	obj.Spec.SandboxRef = "elsewhere"
	obj.Status.State = arl.TaskRunning
	status.PrepareForUpdate(context.Background(), obj, old)
	if obj.Spec.SandboxRef != "sb" || obj.Status.State != arl.TaskRunning {
		t.Errorf("status update: sandboxRef=%q state=%q, want the stored spec and the new status", obj.Spec.SandboxRef, obj.Status.State)
	}
}

func TestResetFields(t *testing.T) {
	strategy := NewStrategy(registrytest.NewScheme())
	if got := strategy.GetResetFields()["arl.infra.io/v1alpha1"].String(); got != ".status" {
		t.Errorf("main strategy resets %q, want .status", got)
	}
	if got := NewStatusStrategy(strategy).GetResetFields()["arl.infra.io/v1alpha1"].String(); got != ".spec" {
		t.Errorf("status strategy resets %q, want .spec", got)
	}
}

func TestSelectableFields(t *testing.T) {
	obj := task()
	obj.Status.State = arl.TaskFailed
	got := SelectableFields(obj)
	want := map[string]string{
		"metadata.name": "t", "metadata.namespace": "default",
		"spec.sandboxRef": "sb", "status.state": "Failed",
	}
	if diff := cmp.Diff(want, map[string]string(got)); diff != "" {
		t.Errorf("selectable fields (-want +got):\n%s", diff)
	}
}

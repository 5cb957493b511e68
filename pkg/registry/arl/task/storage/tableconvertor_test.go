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

package storage

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

func TestConvertToTable(t *testing.T) {
	created := metav1.NewTime(time.Now().Add(-2 * time.Minute))
	finished := &arl.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-task", CreationTimestamp: created, ResourceVersion: "7"},
		Spec:       arl.TaskSpec{SandboxRef: "my-workspace", Steps: make([]arl.TaskStep, 2)},
		Status: arl.TaskStatus{
			State:      arl.TaskSucceeded,
			ExitCode:   ptr.To[int32](0),
			Duration:   &metav1.Duration{Duration: 15 * time.Millisecond},
			Steps:      make([]arl.StepResult, 2),
			Attempts:   1,
			Conditions: []metav1.Condition{{Type: arl.TaskConditionComplete, Reason: "Succeeded"}},
		},
	}
	pending := &arl.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "waiting", CreationTimestamp: created},
		Spec:       arl.TaskSpec{SandboxRef: "my-workspace", Steps: make([]arl.TaskStep, 1)},
		Status:     arl.TaskStatus{State: arl.TaskPending},
	}
	table, err := tableConvertor{}.ConvertToTable(context.Background(), &arl.TaskList{Items: []arl.Task{*finished, *pending}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			names = append(names, c.Name)
		}
	}
	if diff := cmp.Diff([]string{"Name", "State", "ExitCode", "Sandbox", "Duration", "Age"}, names); diff != "" {
		t.Errorf("default columns (-want +got):\n%s", diff)
	}
	want := [][]interface{}{
		{"hello-task", "Succeeded", "0", "my-workspace", "15ms", "2m", "2/2", int32(1), "Succeeded"},
		{"waiting", "Pending", "<none>", "my-workspace", "<none>", "2m", "0/1", int32(0), "<none>"},
	}
	for i, row := range table.Rows {
		if diff := cmp.Diff(want[i], row.Cells); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i, diff)
		}
	}

	single, err := tableConvertor{}.ConvertToTable(context.Background(), finished, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(single.Rows) != 1 || single.ResourceVersion != "7" {
		t.Errorf("single object: %d rows, resourceVersion %q", len(single.Rows), single.ResourceVersion)
	}
}

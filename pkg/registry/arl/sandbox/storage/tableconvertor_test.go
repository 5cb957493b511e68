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

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

func TestConvertToTable(t *testing.T) {
	sandboxes := &arl.SandboxList{Items: []arl.Sandbox{
		{
			ObjectMeta: metav1.ObjectMeta{Name: "ready"},
			Spec:       arl.SandboxSpec{PoolRef: "python-pool", KeepAlive: true},
			Status:     arl.SandboxStatus{Phase: arl.SandboxReady, PodName: "python-pool-x7k2p", PodIP: "10.88.0.7", NodeName: "node-1"},
		},
		{
			ObjectMeta: metav1.ObjectMeta{Name: "waiting"},
			Spec:       arl.SandboxSpec{PoolRef: "missing-pool"},
			Status: arl.SandboxStatus{Phase: arl.SandboxPending, Conditions: []metav1.Condition{
				{Type: arl.SandboxConditionReady, Status: metav1.ConditionFalse, Reason: "PoolNotFound"},
			}},
		},
	}}
	table, err := tableConvertor{}.ConvertToTable(context.Background(), sandboxes, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]interface{}{
		{"ready", "python-pool", "Ready", "python-pool-x7k2p", "<unknown>", "10.88.0.7", "node-1", "true", "<none>"},
		{"waiting", "missing-pool", "Pending", "<none>", "<unknown>", "<none>", "<none>", "false", "PoolNotFound"},
	}
	for i, row := range table.Rows {
		if diff := cmp.Diff(want[i], row.Cells); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i, diff)
		}
	}
}

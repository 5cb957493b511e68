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
)

func TestConvertToTable(t *testing.T) {
	pool := validPool()
	// 3 allocated, 3 idle of which 2 Ready and 1 starting.
	pool.Status.Replicas, pool.Status.ReadyReplicas, pool.Status.AllocatedReplicas = 6, 2, 3
	table, err := tableConvertor{}.ConvertToTable(context.Background(), pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []interface{}{"python-pool", int32(3), int32(3), int32(2), int32(3), "<unknown>", int32(6), "Delete", "python:3.9-slim"}
	if diff := cmp.Diff(want, table.Rows[0].Cells); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}
}

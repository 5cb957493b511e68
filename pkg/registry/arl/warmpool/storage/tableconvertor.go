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
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/tables"
)

type tableConvertor struct{}

var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the WarmPool"},
	{Name: "Replicas", Type: "integer", Description: "Idle, Ready pods to keep (spec.replicas)"},
	{Name: "Idle", Type: "integer", Description: "Idle pods, Ready or still starting"},
	{Name: "Ready", Type: "integer", Description: "Idle pods that are Ready to be bound"},
	{Name: "Allocated", Type: "integer", Description: "Pods bound to a Sandbox"},
	{Name: "Age", Type: "string", Description: "Time since the WarmPool was created"},
	{Name: "Pods", Type: "integer", Priority: 1, Description: "All pods of the pool that are not terminating"},
	{Name: "Reuse", Type: "string", Priority: 1, Description: "What happens to a pod when its Sandbox is deleted"},
	{Name: "Images", Type: "string", Priority: 1, Description: "Images of the pod template's containers"},
}

// ConvertToTable implements rest.TableConvertor.
func (tableConvertor) ConvertToTable(ctx context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return tables.Convert(obj, columns, func(obj runtime.Object, name, age string) []interface{} {
		pool := obj.(*arl.WarmPool)
		images := make([]string, 0, len(pool.Spec.Template.Spec.Containers))
		for _, c := range pool.Spec.Template.Spec.Containers {
			images = append(images, c.Image)
		}
		idle := pool.Status.Replicas - pool.Status.AllocatedReplicas
		return []interface{}{name, pool.Spec.Replicas, idle, pool.Status.ReadyReplicas, pool.Status.AllocatedReplicas, age,
			pool.Status.Replicas, string(pool.Spec.ReusePolicy), strings.Join(images, ",")}
	})
}

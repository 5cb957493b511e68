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
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/tables"
)

type tableConvertor struct{}

var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the Sandbox"},
	{Name: "Pool", Type: "string", Description: "The WarmPool the pod comes from (spec.poolRef)"},
	{Name: "Phase", Type: "string", Description: "Pending, Ready, Failed or Terminating"},
	{Name: "Pod", Type: "string", Description: "The pod bound to the Sandbox"},
	{Name: "Age", Type: "string", Description: "Time since the Sandbox was created"},
	{Name: "IP", Type: "string", Priority: 1, Description: "The pod's address"},
	{Name: "Node", Type: "string", Priority: 1, Description: "The node the pod runs on"},
	{Name: "Keep-Alive", Type: "string", Priority: 1, Description: "Whether the Sandbox outlives its first Task"},
	{Name: "Reason", Type: "string", Priority: 1, Description: "Why the Sandbox is not Ready"},
}

// ConvertToTable implements rest.TableConvertor.
func (tableConvertor) ConvertToTable(ctx context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return tables.Convert(obj, columns, func(obj runtime.Object, name, age string) []interface{} {
		sandbox := obj.(*arl.Sandbox)
		reason := ""
		if c := meta.FindStatusCondition(sandbox.Status.Conditions, arl.SandboxConditionReady); c != nil && c.Status != metav1.ConditionTrue {
			reason = c.Reason
		}
		return []interface{}{name, sandbox.Spec.PoolRef, string(sandbox.Status.Phase), tables.Optional(sandbox.Status.PodName), age,
			tables.Optional(sandbox.Status.PodIP), tables.Optional(sandbox.Status.NodeName),
			strconv.FormatBool(sandbox.Spec.KeepAlive), tables.Optional(reason)}
	})
}

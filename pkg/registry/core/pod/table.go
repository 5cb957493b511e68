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

package pod

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "The pod's name."},
	{Name: "Ready", Type: "string", Description: "Whether its agent answers."},
	{Name: "Status", Type: "string", Description: "The pod's phase, or why it failed."},
	{Name: "Pool", Type: "string", Description: "The WarmPool it belongs to."},
	{Name: "Sandbox", Type: "string", Description: "The Sandbox bound to it, if any."},
	{Name: "Age", Type: "string", Description: "Time since it was created."},
}

// ConvertToTable implements rest.TableConvertor: kubectl get pods' columns,
// with the pool and the Sandbox.
func (r *REST) ConvertToTable(_ context.Context, obj runtime.Object, _ runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{ColumnDefinitions: columns}
	add := func(p *corev1.Pod) {
		ready := "0/1"
		if len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].Ready {
			ready = "1/1"
		}
		status := string(p.Status.Phase)
		if p.Status.Reason != "" {
			status = p.Status.Reason
		}
		if p.DeletionTimestamp != nil {
			status = "Terminating"
		}
		table.Rows = append(table.Rows, metav1.TableRow{
			Cells:  []interface{}{p.Name, ready, status, p.Labels[arl.LabelPool], p.Labels[arl.LabelSandbox], duration.HumanDuration(metav1.Now().Sub(p.CreationTimestamp.Time))},
			Object: runtime.RawExtension{Object: p},
		})
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		add(o)
	case *corev1.PodList:
		for i := range o.Items {
			add(&o.Items[i])
		}
		table.ResourceVersion = o.ResourceVersion
	default:
		return nil, fmt.Errorf("not a Pod: %T", obj)
	}
	if m, err := meta.ListAccessor(obj); err == nil {
		table.Continue = m.GetContinue()
	}
	return table, nil
}

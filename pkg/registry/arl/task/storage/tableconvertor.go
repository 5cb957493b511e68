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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/tables"
)

type tableConvertor struct{}

var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the Task"},
	{Name: "State", Type: "string", Description: "Pending, Running, Succeeded or Failed"},
	{Name: "ExitCode", Type: "string", Description: "Exit code of the last step that ran"},
	{Name: "Sandbox", Type: "string", Description: "The Sandbox the Task runs in (spec.sandboxRef)"},
	{Name: "Duration", Type: "string", Description: "How long the Task ran, or has been running"},
	{Name: "Age", Type: "string", Description: "Time since the Task was created"},
	{Name: "Steps", Type: "string", Priority: 1, Description: "Steps that ran out of all steps"},
	{Name: "Attempts", Type: "integer", Priority: 1, Description: "Attempts made so far"},
	{Name: "Reason", Type: "string", Priority: 1, Description: "Why the Task ended as it did"},
}

// ConvertToTable implements rest.TableConvertor.
func (tableConvertor) ConvertToTable(ctx context.Context, obj runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	now := time.Now()
	return tables.Convert(obj, columns, func(obj runtime.Object, name, age string) []interface{} {
		task := obj.(*arl.Task)
		status := &task.Status
		exitCode := ""
		if status.ExitCode != nil {
			exitCode = strconv.Itoa(int(*status.ExitCode))
		}
		reason := ""
		if n := len(status.Conditions); n > 0 {
			reason = status.Conditions[n-1].Reason
		}
		return []interface{}{name, string(status.State), tables.Optional(exitCode), task.Spec.SandboxRef,
			tables.Optional(taskDuration(status, now)), age,
			strconv.Itoa(len(status.Steps)) + "/" + strconv.Itoa(len(task.Spec.Steps)), status.Attempts, tables.Optional(reason)}
	})
}

// taskDuration is the finished Task's duration, or the time it has been running.
func taskDuration(status *arl.TaskStatus, now time.Time) string {
	switch {
	case status.Duration != nil:
		return humanDuration(status.Duration.Duration)
	case status.StartTime != nil:
		return humanDuration(now.Sub(status.StartTime.Time))
	}
	return ""
}

// humanDuration keeps sub-minute precision, which matters for short Tasks
// (kubectl's own format would print "0s" for most of them).
func humanDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return duration.HumanDuration(d)
}

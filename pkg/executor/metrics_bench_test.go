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

package executor

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-base/tracing"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// BenchmarkTaskInstrumentation is what metrics and tracing (off) add to
// one Task of one step, registered as the server registers them: the
// queue wait, running gauge, the task, attempt and step spans (no-ops),
// and the finished counter and duration. Compare with a Task's CPU in
// arlbench (milliseconds):
//
//	go test -trimpath -run '^$' -bench TaskInstrumentation ./pkg/executor/
func BenchmarkTaskInstrumentation(b *testing.B) {
	RegisterMetrics()
	e := &Executor{cfg: Config{TracerProvider: tracing.NewNoopTracerProvider()}}
	step := arl.TaskStep{Name: "s", Type: arl.StepCommand, Command: []string{"true"}}
	task := &arl.Task{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "t"}, Spec: arl.TaskSpec{Steps: []arl.TaskStep{step}}}
	final := task.DeepCopy()
	final.Status = arl.TaskStatus{State: arl.TaskSucceeded, Duration: &metav1.Duration{Duration: time.Millisecond},
		Conditions: []metav1.Condition{{Type: arl.TaskConditionComplete, Status: metav1.ConditionTrue, Reason: ReasonSucceeded}}}
	admitted := time.Now()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tasksRunning.Inc()
		observeQueueWait(task.Namespace, time.Since(admitted))
		taskCtx, span := e.startTaskSpan(ctx, task, requestParent(ctx))
		attemptCtx, attempt := startAttemptSpan(taskCtx, 1)
		_, stepSpan := startStepSpan(attemptCtx, &step)
		endStepSpan(stepSpan, &arl.StepResult{}, nil)
		endResultSpan(attempt, attemptResult{reason: ReasonSucceeded})
		tasksRunning.Dec()
		endResultSpan(span, attemptResult{reason: ReasonSucceeded})
		observeFinished(final)
	}
}

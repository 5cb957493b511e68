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
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/client-go/tools/record"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// TestTraceIDInTheTasksEvents: the Event of a finished Task names its
// traceID, in the message and in an annotation; a Task without one gets
// the plain message.
func TestTraceIDInTheTasksEvents(t *testing.T) {
	h := newExecutorHarness(t, 0)
	recorder := record.NewFakeRecorder(10)
	recorder.IncludeObject = true
	h.e.cfg.Recorder = recorder
	h.createSandbox(t, "sb")
	h.createTask(t, "sb", "traced", func(task *arl.Task) { task.Spec.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736" })
	h.createTask(t, "sb", "plain")
	for _, name := range []string{"traced", "plain"} {
		if got := h.nextStarted(t); got != name {
			t.Fatalf("started %s, want %s", got, name)
		}
		h.agent.finish(name)
		h.waitState(t, name, arl.TaskSucceeded)
	}

	// The Tasks ran, and so recorded their Events, in order.
	for _, want := range []struct{ name, has, hasNot string }{
		{"traced", "all 1 steps succeeded (traceID 4bf92f3577b34da6a3ce929d0e0e4736) involvedObject{kind=Task,", ""},
		{"plain", "all 1 steps succeeded involvedObject{kind=Task,", "traceID"},
	} {
		select {
		case event := <-recorder.Events:
			if !strings.HasPrefix(event, "Normal Succeeded ") || !strings.Contains(event, want.has) ||
				(want.hasNot != "" && strings.Contains(event, want.hasNot)) {
				t.Errorf("Event of %s: %q, want one with %q", want.name, event, want.has)
			}
			if want.name == "traced" && !strings.Contains(event, "map["+AnnotationTraceID+":4bf92f3577b34da6a3ce929d0e0e4736]") {
				t.Errorf("Event of %s: %q lacks the annotation %s", want.name, event, AnnotationTraceID)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no Event for %s", want.name)
		}
	}
}

// TestTaskLoggerCarriesTheTraceID: the lines about a Task carry its
// traceID under the structured key traceID, and none when it has none.
func TestTaskLoggerCarriesTheTraceID(t *testing.T) {
	var lines []string
	base := funcr.New(func(prefix, args string) { lines = append(lines, args) }, funcr.Options{})
	traced := &arl.Task{Spec: arl.TaskSpec{TraceID: "abc-123"}}
	traced.Namespace, traced.Name = "ns", "traced"
	plain := traced.DeepCopy()
	plain.Spec.TraceID = ""

	taskLogger(base, traced).Info("Task finished")
	taskLogger(base, plain).Info("Task finished")
	if len(lines) != 2 || !strings.Contains(lines[0], `"traceID"="abc-123"`) || !strings.Contains(lines[0], `"task"={"name"="traced" "namespace"="ns"}`) ||
		strings.Contains(lines[1], "traceID") {
		t.Errorf("log lines %q, want the first with traceID abc-123 and the second without", lines)
	}
}

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

package tasks

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

// spanReceiver is an OTLP trace collector: the spans the server exports.
type spanReceiver struct {
	coltracepb.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (r *spanReceiver) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			r.spans = append(r.spans, ss.GetSpans()...)
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

func (r *spanReceiver) all() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

// startSpanReceiver serves an OTLP receiver and writes the server's
// tracing configuration for it: nothing is sampled unless the caller's
// traceparent (or a Task's spec.traceID) says so.
func startSpanReceiver(t *testing.T) (*spanReceiver, string) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	r := &spanReceiver{}
	coltracepb.RegisterTraceServiceServer(srv, r)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	config := filepath.Join(t.TempDir(), "tracing.yaml")
	err = os.WriteFile(config, fmt.Appendf(nil, "apiVersion: apiserver.config.k8s.io/v1\nkind: TracingConfiguration\nendpoint: %s\nsamplingRatePerMillion: 0\n", lis.Addr()), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return r, config
}

func attr(s *tracepb.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// TestTracesOfABindAndATask: with the server's tracing on, a traced
// Sandbox create has an arl.sandbox.bind span under its request's span; a
// traced tasks/exec has the Task's spans under its request's span (task,
// then attempt, then one span per step, each with its agent call under
// it); a Task with a W3C spec.traceID and no traced request is traced in
// that trace; a Task with neither is not traced.
func TestTracesOfABindAndATask(t *testing.T) {
	receiver, config := startSpanReceiver(t)
	e := newEnvWith(t, []string{"--tracing-config-file", config}, 2)

	bindTrace, execTrace := "0af7651916cd43dd8448eb211c80319c", "4bf92f3577b34da6a3ce929d0e0e4736"
	traceparent := func(traceID string) string { return "00-" + traceID + "-b7ad6b7169203331-01" }
	sb := &arlv1alpha1.Sandbox{TypeMeta: metav1.TypeMeta{APIVersion: arlv1alpha1.SchemeGroupVersion.String(), Kind: "Sandbox"},
		ObjectMeta: metav1.ObjectMeta{Name: "traced"}, Spec: arlv1alpha1.SandboxSpec{PoolRef: "python-pool", KeepAlive: true}}
	body, _ := json.Marshal(sb)
	if err := e.rest.Post().Namespace(ns).Resource("sandboxes").Body(body).SetHeader("Content-Type", "application/json").
		SetHeader("traceparent", traceparent(bindTrace)).Do(e.ctx).Error(); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, 2*time.Minute, "Sandbox traced Ready", func() bool {
		got, err := e.arl.Sandboxes(ns).Get(e.ctx, "traced", metav1.GetOptions{})
		return err == nil && got.Status.Phase == arlv1alpha1.SandboxReady
	})

	task := newTask("traced-task", "traced", command("run", "true"), filePatch("write", "/workspace/f.txt", "x"))
	task.APIVersion, task.Kind = arlv1alpha1.SchemeGroupVersion.String(), "Task"
	body, _ = json.Marshal(task)
	if err := e.rest.Post().Namespace(ns).Resource("tasks").Name(task.Name).SubResource("exec").Body(body).
		SetHeader("Content-Type", "application/json").SetHeader("traceparent", traceparent(execTrace)).Do(e.ctx).Error(); err != nil {
		t.Fatal(err)
	}
	ownTrace := "5ce929d0e0e47364bf92f3577b34da6a"
	withID := newTask("own-trace", "traced", command("run", "true"))
	withID.Spec.TraceID = ownTrace
	e.exec(withID)
	e.exec(newTask("untraced", "traced", command("run", "true")))

	var spans []*tracepb.Span
	byTask := func(name string) []*tracepb.Span {
		var out []*tracepb.Span
		for _, s := range spans {
			if s.GetName() == "arl.task" && attr(s, "arl.task") == name {
				out = append(out, s)
			}
		}
		return out
	}
	framework.Eventually(t, time.Minute, "the spans exported", func() bool {
		spans = receiver.all()
		return len(byTask("traced-task")) == 1 && len(byTask("own-trace")) == 1
	})
	// The batch exporter sends what ended by now within its 5 s period.
	time.Sleep(6 * time.Second)
	spans = receiver.all()

	byID := map[string]*tracepb.Span{}
	children := map[string][]*tracepb.Span{}
	for _, s := range spans {
		byID[hex.EncodeToString(s.GetSpanId())] = s
		children[hex.EncodeToString(s.GetParentSpanId())] = append(children[hex.EncodeToString(s.GetParentSpanId())], s)
	}
	childrenNamed := func(parent *tracepb.Span, name string) []*tracepb.Span {
		var out []*tracepb.Span
		for _, c := range children[hex.EncodeToString(parent.GetSpanId())] {
			if c.GetName() == name {
				out = append(out, c)
			}
		}
		return out
	}
	// inRequest says s is in trace and hangs, through the apiserver's own
	// spans, under the span of the server's request.
	inRequest := func(s *tracepb.Span, trace string) bool {
		if hex.EncodeToString(s.GetTraceId()) != trace {
			return false
		}
		for parent, ok := byID[hex.EncodeToString(s.GetParentSpanId())]; ok; parent, ok = byID[hex.EncodeToString(parent.GetParentSpanId())] {
			if parent.GetKind() == tracepb.Span_SPAN_KIND_SERVER {
				return true
			}
		}
		return false
	}

	var binds []*tracepb.Span
	for _, s := range spans {
		if s.GetName() == "arl.sandbox.bind" {
			binds = append(binds, s)
		}
	}
	if len(binds) != 1 || !inRequest(binds[0], bindTrace) || attr(binds[0], "arl.pool") != "python-pool" {
		t.Errorf("want one arl.sandbox.bind span under the create request of trace %s, got %v", bindTrace, binds)
	}

	tasks := byTask("traced-task")
	if !inRequest(tasks[0], execTrace) {
		t.Errorf("arl.task of traced-task: trace %x, parent %x: not under the tasks/exec request of trace %s",
			tasks[0].GetTraceId(), tasks[0].GetParentSpanId(), execTrace)
	}
	attempts := childrenNamed(tasks[0], "arl.task.attempt")
	if len(attempts) != 1 {
		t.Fatalf("arl.task has %d attempt spans, want 1", len(attempts))
	}
	steps := childrenNamed(attempts[0], "arl.task.step")
	if len(steps) != 2 {
		t.Fatalf("the attempt has %d step spans, want 2", len(steps))
	}
	for _, step := range steps {
		want := map[string]string{"run": "AgentService/Execute", "write": "AgentService/UpdateFiles"}[attr(step, "arl.step")]
		if calls := childrenNamed(step, want); len(calls) != 1 || calls[0].GetKind() != tracepb.Span_SPAN_KIND_CLIENT {
			t.Errorf("step %q: want one %s client span under it, got %v", attr(step, "arl.step"), want, children[hex.EncodeToString(step.GetSpanId())])
		}
	}

	own := byTask("own-trace")[0]
	if got := hex.EncodeToString(own.GetTraceId()); got != ownTrace {
		t.Errorf("the Task with spec.traceID %s is in trace %s", ownTrace, got)
	}
	if got := byTask("untraced"); len(got) != 0 {
		t.Errorf("a Task of an unsampled request without a traceID was traced: %v", got)
	}
}

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
	"crypto/rand"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/tracing"
)

// A Task's spans: "arl.task" for its run, under it one "arl.task.attempt"
// per attempt and under that one "arl.task.step" per step, whose agent
// calls (package client) hang under it. A Task runs after the request that
// created it may have ended, so its parent is kept at admission.

// requestParent is the span of the request admitting a Task, when that
// span records: the Task's spans join the request's trace.
func requestParent(ctx context.Context) trace.SpanContext {
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		return span.SpanContext()
	}
	return trace.SpanContext{}
}

// startTaskSpan starts the span of a Task's run: under the request that
// created it; else, when spec.traceID is a W3C trace ID, in that trace
// (the caller's own, which it may have sampled without any request span
// here); else as a root, sampled as the server's tracing configuration
// says.
func (e *Executor) startTaskSpan(ctx context.Context, task *arl.Task, parent trace.SpanContext) (context.Context, trace.Span) {
	tp := e.cfg.TracerProvider
	if tp == nil {
		return ctx, noop.Span{}
	}
	switch id, err := trace.TraceIDFromHex(task.Spec.TraceID); {
	case parent.IsValid():
		ctx = trace.ContextWithSpanContext(ctx, parent)
	case err == nil:
		var spanID trace.SpanID
		_, _ = rand.Read(spanID[:])
		ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
			TraceID: id, SpanID: spanID, TraceFlags: trace.FlagsSampled, Remote: true}))
	}
	ctx, span := tp.Tracer(tracing.TracerName).Start(ctx, "arl.task")
	if span.IsRecording() {
		span.SetAttributes(attribute.String("arl.namespace", task.Namespace), attribute.String("arl.task", task.Name),
			attribute.String("arl.sandbox", task.Spec.SandboxRef), attribute.Int("arl.steps", len(task.Spec.Steps)))
		if task.Spec.TraceID != "" {
			span.SetAttributes(attribute.String("arl.trace_id", task.Spec.TraceID))
		}
	}
	return ctx, span
}

// endResultSpan ends a Task's or an attempt's span with its result.
func endResultSpan(span trace.Span, result attemptResult) {
	if span.IsRecording() {
		span.SetAttributes(attribute.String("arl.reason", result.reason), attribute.Int("arl.exit_code", int(result.exitCode)))
		if result.reason != ReasonSucceeded {
			span.SetStatus(codes.Error, result.message)
		}
	}
	span.End()
}

// startAttemptSpan starts the span of one attempt.
func startAttemptSpan(ctx context.Context, attempt int32) (context.Context, trace.Span) {
	ctx, span := tracing.Start(ctx, "arl.task.attempt")
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("arl.attempt", int(attempt)))
	}
	return ctx, span
}

// startStepSpan starts the span of one step.
func startStepSpan(ctx context.Context, step *arl.TaskStep) (context.Context, trace.Span) {
	ctx, span := tracing.Start(ctx, "arl.task.step")
	if span.IsRecording() {
		span.SetAttributes(attribute.String("arl.step", step.Name), attribute.String("arl.step_type", string(step.Type)))
	}
	return ctx, span
}

// endStepSpan ends a step's span with its result.
func endStepSpan(span trace.Span, result *arl.StepResult, err error) {
	if span.IsRecording() {
		span.SetAttributes(attribute.Int("arl.exit_code", int(result.ExitCode)))
		switch {
		case err != nil:
			span.SetStatus(codes.Error, err.Error())
		case result.ExitCode != 0:
			span.SetStatus(codes.Error, result.Message)
		}
	}
	span.End()
}

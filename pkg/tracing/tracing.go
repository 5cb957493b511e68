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

// Package tracing makes ARL's OpenTelemetry spans. They hang under the
// spans of the generic apiserver's own requests (--tracing-config-file);
// with tracing off, or a request not sampled, nothing is made.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// TracerName is the instrumentation scope of ARL's spans.
const TracerName = "github.com/arl-infra/arl"

// Start starts a span under ctx's span when that span records; otherwise
// it returns ctx and a span that does nothing. Callers set attributes only
// when the span records (span.IsRecording()), so that tracing that is off
// costs a context lookup.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, noop.Span{}
	}
	return parent.TracerProvider().Tracer(TracerName).Start(ctx, name, opts...)
}

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

package client

import (
	"context"
	"errors"
	"io"
	"path"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/tracing"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// call is one AgentService call being observed: its metric, and a client
// span when the caller's context carries a recording span (a traced
// request, a traced Task). Without one there is no span: tracing that is
// off costs a context lookup (tracing.Start).
type call struct {
	rpc   string
	start time.Time
	span  trace.Span
}

func startCall(ctx context.Context, method string) (context.Context, *call) {
	c := &call{rpc: path.Base(method), start: time.Now()}
	ctx, c.span = tracing.Start(ctx, "AgentService/"+c.rpc, trace.WithSpanKind(trace.SpanKindClient))
	if c.span.IsRecording() {
		c.span.SetAttributes(attribute.String("rpc.system", "grpc"), attribute.String("rpc.method", c.rpc))
	}
	return ctx, c
}

func (c *call) end(err error) {
	code := status.Code(err)
	callDuration.WithLabelValues(c.rpc, code.String()).Observe(time.Since(c.start).Seconds())
	if !c.span.IsRecording() {
		return
	}
	c.span.SetAttributes(attribute.String("rpc.grpc.status_code", code.String()))
	if code != codes.OK {
		c.span.SetStatus(otelcodes.Error, err.Error())
	}
	c.span.End()
}

func unaryInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	ctx, c := startCall(ctx, method)
	err := invoker(ctx, method, req, reply, cc, opts...)
	c.end(err)
	return err
}

func streamInterceptor(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	ctx, c := startCall(ctx, method)
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		c.end(err)
		return nil, err
	}
	return &observedStream{ClientStream: s, call: c, serverStreams: desc.ServerStreams}, nil
}

// observedStream ends its call when the stream ends: its last message (an
// Execute's exit, a shell's close, a client stream's answer), io.EOF or an
// error. A stream its caller abandons before that is not recorded.
type observedStream struct {
	grpc.ClientStream
	call          *call
	serverStreams bool
	done          atomic.Bool
}

func (s *observedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if (err != nil || !s.serverStreams || lastMessage(m)) && s.done.CompareAndSwap(false, true) {
		ended := err
		if errors.Is(ended, io.EOF) {
			ended = nil
		}
		s.call.end(ended)
	}
	return err
}

// lastMessage says m ends its stream: callers stop reading there.
func lastMessage(m any) bool {
	switch m := m.(type) {
	case *agentv1.ExecLog:
		return m.GetExit() != nil
	case *agentv1.ShellOutput:
		return m.GetClosed()
	}
	return false
}

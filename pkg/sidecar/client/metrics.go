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
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// callDuration is every AgentService call's time and gRPC code. The
// labels are the method and the code: never the sandbox or pod.
var callDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
	Namespace: "arl", Subsystem: "agent", Name: "call_duration_seconds",
	Help: "Calls to sandboxes' agents (arl-sidecar) by RPC and gRPC code: a unary call until its answer, " +
		"a stream until it ends (an Execute lasts as long as its command).",
	Buckets:        metrics.ExponentialBuckets(0.0005, 2, 20), // 0.5 ms to 262 s
	StabilityLevel: metrics.ALPHA,
}, []string{"rpc", "code"})

var registerOnce sync.Once

// RegisterMetrics adds the agent call metrics to the server's /metrics;
// other programs using this package (kubectl arl, benchmarks) leave them
// unregistered, which makes observing them a no-op.
func RegisterMetrics() {
	registerOnce.Do(func() { legacyregistry.MustRegister(callDuration) })
}

func observeCall(method string, start time.Time, err error) {
	callDuration.WithLabelValues(path.Base(method), status.Code(err).String()).Observe(time.Since(start).Seconds())
}

func unaryMetrics(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	start := time.Now()
	err := invoker(ctx, method, req, reply, cc, opts...)
	observeCall(method, start, err)
	return err
}

func streamMetrics(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	start := time.Now()
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		observeCall(method, start, err)
		return nil, err
	}
	return &observedStream{ClientStream: s, method: method, start: start, serverStreams: desc.ServerStreams}, nil
}

// observedStream records its call when the stream ends: its last message
// (an Execute's exit, a shell's close, a client stream's answer), io.EOF
// or an error. A stream its caller abandons before that is not recorded.
type observedStream struct {
	grpc.ClientStream
	method        string
	start         time.Time
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
		observeCall(s.method, s.start, ended)
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

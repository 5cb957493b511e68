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

package serve

import (
	"context"
	"errors"
	"io"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

var agentMethodPrefix = "/" + agentv1.AgentService_ServiceDesc.ServiceName + "/"

// proxy forwards every AgentService call to the agent as a stream of frames,
// whatever its shape (unary, server or bidi streaming): new RPCs need no
// code here, and messages are neither decoded nor re-encoded.
type proxy struct {
	agent *grpc.ClientConn
}

var bothWays = &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}

func (p *proxy) handle(_ any, in grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(in)
	if !ok || !strings.HasPrefix(method, agentMethodPrefix) {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	// The call's context carries its deadline and cancellation to the agent:
	// a caller that goes away ends the agent's call too.
	ctx, cancel := context.WithCancel(in.Context())
	defer cancel()
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		ctx = metadata.NewOutgoingContext(ctx, forwardable(md))
	}
	out, err := p.agent.NewStream(ctx, bothWays, method, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return err
	}

	// Caller to agent, in its own goroutine (it ends with the call). A
	// failure there cancels the agent's leg and is what the caller gets.
	upErr := make(chan error, 1)
	go func() {
		for {
			f := &frame{}
			if err := in.RecvMsg(f); err != nil {
				if errors.Is(err, io.EOF) {
					_ = out.CloseSend()
					return
				}
				upErr <- err
				cancel()
				return
			}
			if err := out.SendMsg(f); err != nil {
				return // the agent's status comes on the other leg
			}
		}
	}()

	// Agent to caller.
	for {
		f := &frame{}
		if err := out.RecvMsg(f); err != nil {
			in.SetTrailer(out.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			select {
			case up := <-upErr:
				return up
			default:
				return err // the agent's status, code and message intact
			}
		}
		if err := in.SendMsg(f); err != nil {
			return err
		}
	}
}

// forwardable drops the headers gRPC sets itself on each leg.
func forwardable(md metadata.MD) metadata.MD {
	out := metadata.MD{}
	for k, v := range md {
		if strings.HasPrefix(k, ":") || strings.HasPrefix(k, "grpc-") || k == "content-type" || k == "user-agent" || k == "te" {
			continue
		}
		out[k] = v
	}
	return out
}

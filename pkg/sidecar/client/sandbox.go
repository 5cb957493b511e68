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

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// SandboxMetadataKey carries the UID of the Sandbox a call is made for:
// the agent refuses the calls of a Sandbox its pod was reset away from
// (ResetRequest.release_sandbox). The agent's own constant has the same
// value.
const SandboxMetadataKey = "arl-sandbox"

// ForSandbox returns a client whose every call says it is made for the
// Sandbox with that UID, over c's connection.
func (c *Client) ForSandbox(uid string) *Client {
	return &Client{target: c.target, conn: c.conn, api: agentv1.NewAgentServiceClient(sandboxConn{ClientConnInterface: c.conn, uid: uid})}
}

// sandboxConn adds the Sandbox's UID to the metadata of every call.
type sandboxConn struct {
	grpc.ClientConnInterface
	uid string
}

func (s sandboxConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	return s.ClientConnInterface.Invoke(metadata.AppendToOutgoingContext(ctx, SandboxMetadataKey, s.uid), method, args, reply, opts...)
}

func (s sandboxConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return s.ClientConnInterface.NewStream(metadata.AppendToOutgoingContext(ctx, SandboxMetadataKey, s.uid), desc, method, opts...)
}

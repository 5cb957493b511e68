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

// Package client calls the AgentService of a sandbox: the agent itself over
// its unix socket (standalone mode), or arl-sidecar serve over mTLS (pods).
// A Pool keeps one gRPC connection per target.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// MaxMessageBytes matches the agent's and serve's limit: whole files travel
// in one UpdateFiles or ReadFile message.
const MaxMessageBytes = 64 << 20

// Flow-control windows of every connection (see Dial).
const (
	windowBytes     = 4 << 20
	connWindowBytes = 16 << 20
)

// KeepaliveTime is how often an idle connection is probed, so that a call
// to a pod that vanished (a long Execute with no output) fails instead of
// hanging until TCP gives up. serve permits pings this frequent.
const KeepaliveTime = 30 * time.Second

// Target is where an AgentService listens.
type Target struct {
	// Address is a unix socket path ("/run/arl/agent.sock" or
	// "unix:///run/arl/agent.sock"), or host:port of arl-sidecar serve.
	Address string
	// TLS is required for host:port: it carries the client certificate
	// and the CA (RootCAs) and name (ServerName) of serve's certificate.
	// It is ignored for unix sockets.
	TLS *tls.Config
}

// IsUnix reports whether the target is a unix socket.
func (t Target) IsUnix() bool {
	return strings.HasPrefix(t.Address, "/") || strings.HasPrefix(t.Address, "unix:")
}

func (t Target) grpcTarget() string {
	if strings.HasPrefix(t.Address, "unix:") {
		return t.Address
	}
	if t.IsUnix() {
		return "unix://" + t.Address
	}
	// No resolver: an address is a pod IP and port.
	return "passthrough:///" + t.Address
}

// Client calls one AgentService. It is safe for concurrent use.
type Client struct {
	target Target
	conn   *grpc.ClientConn
	api    agentv1.AgentServiceClient
}

// Dial returns a client for t. It does not wait for a connection: the first
// call connects (a unix socket in microseconds), and later calls reuse it.
func Dial(ctx context.Context, t Target, opts ...grpc.DialOption) (*Client, error) {
	if t.Address == "" {
		return nil, errors.New("target address is empty")
	}
	creds := insecure.NewCredentials()
	if !t.IsUnix() {
		if t.TLS == nil {
			return nil, fmt.Errorf("target %s: a TLS config (mTLS) is required for host:port", t.Address)
		}
		creds = credentials.NewTLS(t.TLS)
	}
	opts = append([]grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithChainUnaryInterceptor(unaryInterceptor),
		grpc.WithChainStreamInterceptor(streamInterceptor),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: KeepaliveTime, Timeout: 10 * time.Second}),
		// Fixed windows turn off gRPC's bandwidth-delay probing, which
		// adds a PING round per burst of data: latency, not throughput,
		// is what matters here, and the windows are large enough for both.
		grpc.WithInitialWindowSize(windowBytes),
		grpc.WithInitialConnWindowSize(connWindowBytes),
		// gRPC's default first retry waits a second: too long for an agent
		// or pod that comes up just after the first call.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
	}, opts...)
	conn, err := grpc.NewClient(t.grpcTarget(), opts...)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Address, err)
	}
	return &Client{target: t, conn: conn, api: agentv1.NewAgentServiceClient(conn)}, nil
}

// Close closes the connection; calls in flight fail.
func (c *Client) Close() error { return c.conn.Close() }

// Target returns the target the client calls.
func (c *Client) Target() Target { return c.target }

// API is the generated client, for what the wrappers do not cover.
func (c *Client) API() agentv1.AgentServiceClient { return c.api }

// Conn is the underlying connection.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// Health returns nil when the target answers SERVING.
func (c *Client) Health(ctx context.Context) error {
	resp, err := healthpb.NewHealthClient(c.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return err
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%s is %v", c.target.Address, resp.GetStatus())
	}
	return nil
}

// Signal calls SignalProcess.
func (c *Client) Signal(ctx context.Context, req *agentv1.SignalRequest) (*agentv1.SignalResponse, error) {
	return c.api.SignalProcess(ctx, req)
}

// UpdateFiles calls UpdateFiles.
func (c *Client) UpdateFiles(ctx context.Context, req *agentv1.FileRequest) (*agentv1.FileResponse, error) {
	return c.api.UpdateFiles(ctx, req)
}

// ReadFile calls ReadFile.
func (c *Client) ReadFile(ctx context.Context, req *agentv1.ReadFileRequest) (*agentv1.ReadFileResponse, error) {
	return c.api.ReadFile(ctx, req)
}

// ListProcesses calls ListProcesses.
func (c *Client) ListProcesses(ctx context.Context, req *agentv1.ListProcessesRequest) (*agentv1.ListProcessesResponse, error) {
	return c.api.ListProcesses(ctx, req)
}

// Reset calls Reset.
func (c *Client) Reset(ctx context.Context, req *agentv1.ResetRequest) (*agentv1.ResetResponse, error) {
	return c.api.Reset(ctx, req)
}

// Shell opens an InteractiveShell stream. Send a ShellInput with Start
// first; Recv until a ShellOutput with Closed. Cancelling ctx hangs up the
// terminal (SIGHUP, then the session's group is terminated).
func (c *Client) Shell(ctx context.Context) (agentv1.AgentService_InteractiveShellClient, error) {
	return c.api.InteractiveShell(ctx)
}

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

// Package serve is arl-sidecar serve: the pod's authenticated AgentService
// endpoint. It terminates mTLS, admits only clients whose certificate the
// configured CA signed, and forwards each call to the agent's unix socket.
// A plaintext port answers the standard health service alone, for kubelet
// gRPC probes (which cannot present certificates).
package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"k8s.io/klog/v2"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// MaxMessageBytes matches the agent and the client.
const MaxMessageBytes = 64 << 20

// Fixed flow-control windows on both legs turn off gRPC's bandwidth-delay
// probing, which costs a PING round per burst of data; they are large
// enough for a pod network's bandwidth-delay product.
const (
	windowBytes     = 4 << 20
	connWindowBytes = 16 << 20
	// serve holds a connection or two on each side: larger transport
	// buffers cost little and move whole files in fewer syscalls.
	bufferBytes = 256 << 10
)

// Config configures a Server.
type Config struct {
	// AgentSocket is the agent's unix socket.
	AgentSocket string
	// Credentials serve TLS and verify client certificates.
	Credentials *Credentials
	// HealthInterval is how often the agent's health is checked.
	HealthInterval time.Duration
}

// Server is a running serve.
type Server struct {
	cfg      Config
	agent    *grpc.ClientConn
	health   *health.Server
	secure   *grpc.Server
	plain    *grpc.Server
	stopPoll context.CancelFunc
}

// New connects (lazily) to the agent and builds the servers.
func New(cfg Config) (*Server, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("credentials are required")
	}
	if cfg.HealthInterval <= 0 {
		cfg.HealthInterval = time.Second
	}
	conn, err := grpc.NewClient("unix://"+cfg.AgentSocket,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes)),
		grpc.WithInitialWindowSize(windowBytes),
		grpc.WithInitialConnWindowSize(connWindowBytes),
		grpc.WithReadBufferSize(bufferBytes),
		grpc.WithWriteBufferSize(bufferBytes),
		// A local socket: retry a restarted agent within a second, not
		// after gRPC's default backoff of up to two minutes.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: time.Second},
			MinConnectTimeout: time.Second,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("agent socket %s: %w", cfg.AgentSocket, err)
	}
	hs := health.NewServer()
	setHealth(hs, healthpb.HealthCheckResponse_NOT_SERVING)
	p := &proxy{agent: conn}
	creds := &clientCertCreds{
		TransportCredentials: credentials.NewTLS(cfg.Credentials.serverTLS()),
		verify:               verifyClientCert(cfg.Credentials.clientCAs),
	}
	secure := grpc.NewServer(
		grpc.Creds(creds),
		grpc.ForceServerCodecV2(rawCodec{}),
		grpc.UnknownServiceHandler(p.handle),
		grpc.InTapHandle(authorizeStream),
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.InitialWindowSize(windowBytes),
		grpc.InitialConnWindowSize(connWindowBytes),
		grpc.ReadBufferSize(bufferBytes),
		grpc.WriteBufferSize(bufferBytes),
		// Clients probe idle connections every 30 s (pkg/sidecar/client).
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	healthpb.RegisterHealthServer(secure, hs)
	plain := grpc.NewServer()
	healthpb.RegisterHealthServer(plain, hs)
	return &Server{cfg: cfg, agent: conn, health: hs, secure: secure, plain: plain}, nil
}

func setHealth(hs *health.Server, st healthpb.HealthCheckResponse_ServingStatus) {
	hs.SetServingStatus("", st)
	hs.SetServingStatus(agentv1.AgentService_ServiceDesc.ServiceName, st)
}

// Serve serves the AgentService on lis and, when healthLis is not nil, the
// health service in plaintext on healthLis, until Stop.
func (s *Server) Serve(lis, healthLis net.Listener) error {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopPoll = cancel
	go s.pollAgent(ctx)
	if healthLis != nil {
		go func() {
			if err := s.plain.Serve(healthLis); err != nil {
				klog.ErrorS(err, "Health listener failed")
			}
		}()
	}
	return s.secure.Serve(lis)
}

// Stop ends calls in flight and closes the listeners.
func (s *Server) Stop() {
	if s.stopPoll != nil {
		s.stopPoll()
	}
	s.health.Shutdown()
	s.secure.Stop()
	s.plain.Stop()
	s.agent.Close()
}

// pollAgent keeps the health status equal to the agent's: SERVING only when
// the agent answers on its socket.
func (s *Server) pollAgent(ctx context.Context) {
	client := healthpb.NewHealthClient(s.agent)
	last := healthpb.HealthCheckResponse_UNKNOWN
	for {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.HealthInterval)
		resp, err := client.Check(cctx, &healthpb.HealthCheckRequest{})
		cancel()
		st := healthpb.HealthCheckResponse_NOT_SERVING
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			st = healthpb.HealthCheckResponse_SERVING
		}
		if ctx.Err() != nil {
			return
		}
		if st != last {
			klog.InfoS("Agent health changed", "status", st, "err", err)
			setHealth(s.health, st)
			last = st
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.HealthInterval):
		}
	}
}

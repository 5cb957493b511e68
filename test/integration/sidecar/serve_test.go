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

package sidecar

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/sidecar/pki"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

type serveProc struct {
	*proc
	addr, healthAddr string
}

func startServe(t testing.TB, m *mtls, agentSocket string) *serveProc {
	t.Helper()
	s := &serveProc{addr: freeAddr(t), healthAddr: freeAddr(t)}
	s.proc = startProc(t, nil, binary, "serve",
		"--listen", s.addr, "--health-listen", s.healthAddr, "--health-interval", "50ms",
		"--agent-socket", agentSocket,
		"--tls-cert-file", m.certFile, "--tls-key-file", m.keyFile, "--client-ca-file", m.caFile)
	eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, func() string { return "serve never listened: " + s.logs.String() })
	return s
}

func plainHealth(t testing.TB, addr string) healthpb.HealthCheckResponse_ServingStatus {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN
	}
	return resp.GetStatus()
}

func TestServeBinaryOverMTLS(t *testing.T) {
	a := startAgent(t, nil, nil, nil)
	m := newMTLS(t)
	s := startServe(t, m, a.socket)
	c := m.client(t, m.ca, s.addr)

	res, err := c.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"sh", "-c", "echo 'Hello from ARL!'"}})
	if err != nil || string(res.Stdout) != "Hello from ARL!\n" {
		t.Fatalf("Execute through serve: %+v %v", res, err)
	}
	eventually(t, func() bool { return plainHealth(t, s.healthAddr) == healthpb.HealthCheckResponse_SERVING },
		func() string { return "the health port never said SERVING" })

	stranger, err := pki.NewCA("stranger", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.client(t, stranger, s.addr).Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"true"}})
	if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("a client of another CA: %v, want Unauthenticated", err)
	}

	a.stop()
	eventually(t, func() bool { return plainHealth(t, s.healthAddr) == healthpb.HealthCheckResponse_NOT_SERVING },
		func() string { return "the health port still says SERVING with the agent gone" })
	_, err = c.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"true"}})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("Execute with the agent gone: %v, want Unavailable", err)
	}
}

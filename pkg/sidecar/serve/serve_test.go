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

package serve_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	"github.com/arl-infra/arl/pkg/sidecar/pki"
	"github.com/arl-infra/arl/pkg/sidecar/serve"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

const serverName = "arl-sidecar.arl.infra.io"

type fixture struct {
	dir        string
	sock       string
	ca         *pki.CA
	addr       string
	healthAddr string
	stopAgent  func()
}

func writePair(t testing.TB, dir, name string, kp *pki.KeyPair) (string, string) {
	t.Helper()
	cert, key := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(cert, kp.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, kp.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// startAgent serves an agent on the fixture's socket.
func (f *fixture) startAgent(t testing.TB) {
	t.Helper()
	a, err := agent.New(agent.Config{Workspace: filepath.Join(f.dir, "ws")})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := agent.ListenUnix(f.sock, 0o660, -1)
	if err != nil {
		t.Fatal(err)
	}
	srv := a.NewServer()
	go func() { _ = srv.Serve(lis) }()
	f.stopAgent = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = a.KillAll(ctx, 0)
		srv.Stop()
		a.Close()
	}
	t.Cleanup(func() { f.stopAgent() })
}

// startServe runs serve (mTLS on a TCP port, health in plaintext) in front
// of an agent; the agent starts only if withAgent.
func startServe(t testing.TB, withAgent bool) *fixture {
	t.Helper()
	dir, err := os.MkdirTemp("", "arl-serve-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fixture{dir: dir, sock: filepath.Join(dir, "agent.sock")}
	f.ca, err = pki.NewCA("arl-test-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	server, err := f.ca.Issue("arl-sidecar", time.Hour, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, serverName)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := writePair(t, dir, "serving", server)
	caFile := filepath.Join(dir, "client-ca.crt")
	if err := os.WriteFile(caFile, f.ca.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	creds, err := serve.LoadCredentials(certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	if withAgent {
		f.startAgent(t)
	}
	s, err := serve.New(serve.Config{AgentSocket: f.sock, Credentials: creds, HealthInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hlis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr, f.healthAddr = lis.Addr().String(), hlis.Addr().String()
	go func() { _ = s.Serve(lis, hlis) }()
	t.Cleanup(s.Stop)
	return f
}

func (f *fixture) clientTLS(t testing.TB, ca *pki.CA, usage x509.ExtKeyUsage) *tls.Config {
	t.Helper()
	kp, err := ca.Issue("arl-apiserver", time.Hour, []x509.ExtKeyUsage{usage})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := pki.ClientTLS(kp, f.ca.CertPEM, serverName)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (f *fixture) dial(t testing.TB, cfg *tls.Config) *client.Client {
	t.Helper()
	c, err := client.Dial(context.Background(), client.Target{Address: f.addr, TLS: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func callCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestServeForwardsEveryRPCOverMTLS(t *testing.T) {
	f := startServe(t, true)
	c := f.dial(t, f.clientTLS(t, f.ca, x509.ExtKeyUsageClientAuth))
	ctx := callCtx(t)

	res, err := c.Run(ctx, &agentv1.ExecRequest{Command: []string{"sh", "-c", "echo out; echo err >&2; exit 4"}})
	if err != nil || string(res.Stdout) != "out\n" || string(res.Stderr) != "err\n" || res.ExitCode != 4 || res.Pid == 0 {
		t.Fatalf("Execute: %+v %v", res, err)
	}
	content := bytes.Repeat([]byte{0, 0xff, 'a'}, 4<<20) // 12 MiB: past gRPC's 4 MiB default
	if _, err := c.UpdateFiles(ctx, &agentv1.FileRequest{Files: []*agentv1.File{{Path: "big", Content: content}}}); err != nil {
		t.Fatalf("UpdateFiles: %v", err)
	}
	read, err := c.ReadFile(ctx, &agentv1.ReadFileRequest{Path: "big"})
	if err != nil || !bytes.Equal(read.GetContent(), content) {
		t.Fatalf("ReadFile: %d bytes, %v", len(read.GetContent()), err)
	}
	// The file RPCs: client and server streams of many chunks, and the
	// unary ones. All under "dir", which Remove removes at the end.
	streamed := bytes.Repeat([]byte{1, 2, 3}, 1<<20) // 3 MiB: a dozen chunks
	info, err := c.WriteFile(ctx, &agentv1.WriteFileHeader{Path: "dir/streamed", CreateParents: true}, bytes.NewReader(streamed))
	if err != nil || info.GetSize() != int64(len(streamed)) {
		t.Fatalf("WriteFile: %v %v", info, err)
	}
	var back bytes.Buffer
	st, err := c.ReadFileStream(ctx, &agentv1.ReadFileRequest{Path: "dir/streamed"}, &back)
	if err != nil || !bytes.Equal(back.Bytes(), streamed) || st.GetSize() != int64(len(streamed)) {
		t.Fatalf("ReadFileStream: %d bytes, %v %v", back.Len(), st, err)
	}
	if st, err := c.Stat(ctx, &agentv1.StatRequest{Path: "dir/streamed"}); err != nil || st.GetType() != agentv1.FileStat_FILE {
		t.Fatalf("Stat: %v %v", st, err)
	}
	if st, err := c.MakeDir(ctx, &agentv1.MakeDirRequest{Path: "dir/sub", Mode: 0o700}); err != nil || st.GetMode() != 0o700 {
		t.Fatalf("MakeDir: %v %v", st, err)
	}
	if list, err := c.ListDir(ctx, &agentv1.ListDirRequest{Path: "dir"}); err != nil || len(list.GetEntries()) != 2 {
		t.Fatalf("ListDir: %v %v", list, err)
	}
	var archive bytes.Buffer
	if err := c.PackArchive(ctx, &agentv1.PackArchiveRequest{Path: "dir"}, &archive); err != nil {
		t.Fatalf("PackArchive: %v", err)
	}
	unpacked, err := c.UnpackArchive(ctx, "dir/copy", &archive)
	if err != nil || unpacked.GetEntries() != 2 || unpacked.GetBytes() != int64(len(streamed)) {
		t.Fatalf("UnpackArchive: %v %v", unpacked, err)
	}
	// A refusal comes through a client stream as the agent's status.
	if _, err := c.UnpackArchive(ctx, "../x", bytes.NewReader(nil)); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("UnpackArchive with ..: %v", err)
	}
	if _, err := c.Remove(ctx, &agentv1.RemoveRequest{Path: "dir", Recursive: true}); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	bg, err := c.Run(ctx, &agentv1.ExecRequest{Command: []string{"sleep", "1000"}, Background: true, Tag: "bg"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := c.ListProcesses(ctx, &agentv1.ListProcessesRequest{})
	if err != nil || len(list.GetProcesses()) != 1 || list.GetProcesses()[0].GetPid() != bg.Pid {
		t.Fatalf("ListProcesses: %v %v", list, err)
	}
	// The agent's status codes and messages come through unchanged.
	_, err = c.Signal(ctx, &agentv1.SignalRequest{Pid: 999999999})
	if status.Code(err) != codes.NotFound || !strings.Contains(status.Convert(err).Message(), "999999999") {
		t.Fatalf("Signal of an unknown pid: %v", err)
	}
	_, err = c.UpdateFiles(ctx, &agentv1.FileRequest{Files: []*agentv1.File{{Path: "../x"}}})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("UpdateFiles with ..: %v", err)
	}
	// A bidi stream: the PTY shell.
	sh, err := c.Shell(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Start{Start: &agentv1.ShellStart{Command: []string{"sh", "-c", "read x; echo got-$x; exit 6"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := sh.Send(&agentv1.ShellInput{Input: &agentv1.ShellInput_Data{Data: []byte("hi\n")}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var last *agentv1.ShellOutput
	for {
		m, err := sh.Recv()
		if err != nil {
			break
		}
		out.Write(m.GetData())
		if m.GetClosed() {
			last = m
		}
	}
	if !strings.Contains(out.String(), "got-hi") || last == nil || last.GetExitCode() != 6 {
		t.Fatalf("shell output %q, last %v", out.String(), last)
	}
	reset, err := c.Reset(ctx, &agentv1.ResetRequest{})
	if err != nil || len(reset.GetKilled()) != 1 || len(reset.GetRemoved()) != 1 {
		t.Fatalf("Reset: %v %v", reset, err)
	}
}

func TestServeRefusesClientsWithoutAValidCertificate(t *testing.T) {
	f := startServe(t, true)
	otherCA, err := pki.NewCA("someone-else", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	noCert := f.clientTLS(t, f.ca, x509.ExtKeyUsageClientAuth)
	noCert.Certificates = nil
	for name, tc := range map[string]struct {
		cfg  *tls.Config
		want string
	}{
		"no certificate":            {noCert, "client certificate is required"},
		"certificate of a stranger": {f.clientTLS(t, otherCA, x509.ExtKeyUsageClientAuth), "not trusted"},
		"server-only certificate":   {f.clientTLS(t, f.ca, x509.ExtKeyUsageServerAuth), "not trusted"},
	} {
		t.Run(name, func(t *testing.T) {
			c := f.dial(t, tc.cfg)
			_, err := c.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"touch", filepath.Join(f.dir, "pwned")}})
			if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Execute: %v; want Unauthenticated mentioning %q", err, tc.want)
			}
			_, err = c.Reset(callCtx(t), &agentv1.ResetRequest{})
			if status.Code(err) != codes.Unauthenticated {
				t.Fatalf("Reset: %v; want Unauthenticated", err)
			}
			if err := c.Health(callCtx(t)); status.Code(err) != codes.Unauthenticated {
				t.Fatalf("health on the mTLS port: %v; want Unauthenticated", err)
			}
			if _, err := os.Stat(filepath.Join(f.dir, "pwned")); err == nil {
				t.Fatal("the command ran")
			}
		})
	}
	// Plaintext to the mTLS port does not get in either.
	conn, err := grpc.NewClient("passthrough:///"+f.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := agentv1.NewAgentServiceClient(conn).Reset(callCtx(t), &agentv1.ResetRequest{}); err == nil {
		t.Fatal("a plaintext call succeeded")
	}
}

func healthOf(t *testing.T, addr string) (healthpb.HealthCheckResponse_ServingStatus, *grpc.ClientConn) {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := healthpb.NewHealthClient(conn).Check(callCtx(t), &healthpb.HealthCheckRequest{Service: agentv1.AgentService_ServiceDesc.ServiceName})
	if err != nil {
		t.Fatal(err)
	}
	return resp.GetStatus(), conn
}

func waitHealth(t *testing.T, addr string, want healthpb.HealthCheckResponse_ServingStatus) {
	t.Helper()
	var got healthpb.HealthCheckResponse_ServingStatus
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		var conn *grpc.ClientConn
		got, conn = healthOf(t, addr)
		conn.Close()
		return got == want, nil
	})
	if err != nil {
		t.Fatalf("health is %v, want %v", got, want)
	}
}

func TestServeHealthFollowsTheAgent(t *testing.T) {
	f := startServe(t, false)
	waitHealth(t, f.healthAddr, healthpb.HealthCheckResponse_NOT_SERVING)
	f.startAgent(t)
	waitHealth(t, f.healthAddr, healthpb.HealthCheckResponse_SERVING)
	f.stopAgent()
	f.stopAgent = func() {}
	waitHealth(t, f.healthAddr, healthpb.HealthCheckResponse_NOT_SERVING)

	// The plaintext port serves health and nothing else.
	_, conn := healthOf(t, f.healthAddr)
	defer conn.Close()
	_, err := agentv1.NewAgentServiceClient(conn).Reset(callCtx(t), &agentv1.ResetRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("AgentService on the health port: %v, want Unimplemented", err)
	}
}

func TestServeCancelledCallerKillsTheCommand(t *testing.T) {
	f := startServe(t, true)
	c := f.dial(t, f.clientTLS(t, f.ca, x509.ExtKeyUsageClientAuth))
	ctx, cancel := context.WithCancel(callCtx(t))
	pids := make(chan int32, 1)
	done := make(chan error, 1)
	go func() {
		stream, err := c.API().Execute(ctx, &agentv1.ExecRequest{Command: []string{"sleep", "1000"}})
		if err != nil {
			done <- err
			return
		}
		m, err := stream.Recv()
		if err != nil {
			done <- err
			return
		}
		pids <- m.GetStarted().GetPid()
		_, err = stream.Recv()
		done <- err
	}()
	var pid int32
	select {
	case pid = <-pids:
	case err := <-done:
		t.Fatal(err)
	}
	cancel()
	<-done
	// The agent ends the process and forgets it.
	var list *agentv1.ListProcessesResponse
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		var err error
		list, err = c.ListProcesses(callCtx(t), &agentv1.ListProcessesRequest{})
		return len(list.GetProcesses()) == 0, err
	})
	if err != nil {
		t.Fatalf("pid %d still listed after the caller cancelled: %v (%v)", pid, list, err)
	}
}

// frameCodec sends and receives messages as the bytes they are on the wire.
type frameCodec struct{}

func (frameCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (frameCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (frameCodec) Name() string { return "proto" }

// A caller without a valid certificate is refused before serve reads any of
// its request: gRPC decodes a unary request before the interceptors run,
// so the health service on the mTLS port used to read and parse (up to 64
// MiB of) a stranger's message first. A frame that is not protobuf shows
// it: it was answered Internal (could not parse) rather than
// Unauthenticated. Found by FuzzServeFrames.
func TestServeReadsNothingBeforeAuthentication(t *testing.T) {
	f := startServe(t, true)
	noCert := f.clientTLS(t, f.ca, x509.ExtKeyUsageClientAuth)
	noCert.Certificates = nil
	c := f.dial(t, noCert)
	garbage := []byte{0xff, 0xff, 0xff}
	for _, method := range []string{"/grpc.health.v1.Health/Check", "/arl.agent.v1.AgentService/ListProcesses"} {
		var out []byte
		err := c.Conn().Invoke(callCtx(t), method, &garbage, &out, grpc.ForceCodecV2(frameCodec{}))
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "client certificate is required") {
			t.Errorf("%s without a certificate: %v; want Unauthenticated", method, err)
		}
	}
}

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
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

const agentService = "arl.agent.v1.AgentService"

// agentRequests are the request types of the AgentService's methods.
var agentRequests = map[string]func() proto.Message{
	"Execute":          func() proto.Message { return &agentv1.ExecRequest{} },
	"SignalProcess":    func() proto.Message { return &agentv1.SignalRequest{} },
	"UpdateFiles":      func() proto.Message { return &agentv1.FileRequest{} },
	"ReadFile":         func() proto.Message { return &agentv1.ReadFileRequest{} },
	"ListProcesses":    func() proto.Message { return &agentv1.ListProcessesRequest{} },
	"Reset":            func() proto.Message { return &agentv1.ResetRequest{} },
	"InteractiveShell": func() proto.Message { return &agentv1.ShellInput{} },
}

var agentMethods = []string{"Execute", "SignalProcess", "UpdateFiles", "ReadFile", "ListProcesses", "Reset", "InteractiveShell"}

// callFrames calls method with frames as its messages and returns the
// call's status (nil when it ended OK) once every answer is read.
func callFrames(ctx context.Context, conn *grpc.ClientConn, method string, frames [][]byte) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodecV2(frameCodec{}))
	if err != nil {
		return err
	}
	for _, f := range frames {
		if err := stream.SendMsg(&f); err != nil {
			break // the status comes from RecvMsg
		}
	}
	_ = stream.CloseSend()
	for {
		var out []byte
		if err := stream.RecvMsg(&out); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// harmless reports whether frames, as the agent would decode them, can
// only run what the fuzz target allows: programs found by name (in a
// directory of harmless ones), environment names it prefixed, signals to
// tagged (the agent's own) processes or signals nobody minds.
func harmless(method string, frames [][]byte) bool {
	for _, f := range frames {
		req := agentRequests[method]()
		if proto.Unmarshal(f, req) != nil {
			continue // the agent refuses it
		}
		switch r := req.(type) {
		case *agentv1.ExecRequest:
			if !harmlessCommand(r.GetCommand(), r.GetEnv(), false) {
				return false
			}
		case *agentv1.ShellInput:
			if s := r.GetStart(); s != nil && !harmlessCommand(s.GetCommand(), s.GetEnv(), true) {
				return false
			}
		case *agentv1.SignalRequest:
			sig := r.GetSignal()
			if sig == "" {
				sig = "TERM"
			}
			s, err := procutil.ParseSignal(sig)
			if err == nil && r.GetTag() == "" && s != unix.SIGWINCH && s != unix.SIGCONT && s != unix.SIGURG {
				return false
			}
		}
	}
	return true
}

func harmlessCommand(argv []string, env map[string]string, emptyOK bool) bool {
	if len(argv) == 0 {
		return emptyOK // the agent's $SHELL: cat-stdin
	}
	if strings.Contains(argv[0], "/") && !strings.Contains(argv[0], "\x00") {
		return false
	}
	for k := range env {
		if k != "" && !strings.ContainsAny(k, "=\x00") && !strings.HasPrefix(k, "FUZZ_") {
			return false
		}
	}
	return true
}

// FuzzServeFrames sends arbitrary frames (bytes that may or may not be a
// protobuf request; none, one or two of them) to arbitrary methods through
// serve's mTLS proxy to a real agent, with and without a client
// certificate. Whatever the input: without a certificate every call is
// Unauthenticated; an unknown method is Unimplemented; a frame that does not
// decode is Internal (gRPC's code for an unparseable request) and any other
// answer is the agent's own status; no call hangs or answers Unknown; the
// proxy keeps serving; and nothing the call started is left running.
//
// Seeds: testdata/fuzz/FuzzServeFrames and the f.Add calls below. Run
// longer: go test -run '^$' -fuzz '^FuzzServeFrames$' -fuzztime 5m ./pkg/sidecar/serve
func FuzzServeFrames(f *testing.F) {
	fx := startServe(f, false)
	bin := f.TempDir()
	for _, name := range []string{"true", "false", "echo"} {
		p, err := exec.LookPath(name)
		if err != nil {
			f.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, name)); err != nil {
			f.Fatal(err)
		}
	}
	cat, err := exec.LookPath("cat")
	if err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "cat-stdin"), []byte("#!/bin/sh\nexec "+cat+"\n"), 0o755); err != nil {
		f.Fatal(err)
	}
	ws := filepath.Join(fx.dir, "ws")
	a, err := agent.New(agent.Config{
		Workspace:    ws,
		AllowedRoots: []string{ws},
		Env:          []string{"PATH=" + bin, "SHELL=" + filepath.Join(bin, "cat-stdin")},
		KillGrace:    100 * time.Millisecond,
	})
	if err != nil {
		f.Fatal(err)
	}
	lis, err := agent.ListenUnix(fx.sock, 0o660, -1)
	if err != nil {
		f.Fatal(err)
	}
	srv := a.NewServer()
	go func() { _ = srv.Serve(lis) }()
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = a.KillAll(ctx, 0)
		srv.Stop()
		a.Close()
	})
	good := fx.dial(f, fx.clientTLS(f, fx.ca, x509.ExtKeyUsageClientAuth))
	noCertTLS := fx.clientTLS(f, fx.ca, x509.ExtKeyUsageClientAuth)
	noCertTLS.Certificates = nil
	noCert := fx.dial(f, noCertTLS)
	waitServing(f, good)

	must := func(m proto.Message) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	const noFrames = 0xffff
	type seed struct {
		auth    bool
		method  uint8
		name    string
		payload []byte
		split   uint16
	}
	start := must(&agentv1.ShellInput{Input: &agentv1.ShellInput_Start{Start: &agentv1.ShellStart{Command: []string{"cat-stdin"}}}})
	data := must(&agentv1.ShellInput{Input: &agentv1.ShellInput_Data{Data: []byte("typed\n")}})
	for _, s := range []seed{
		{auth: true, method: 0, payload: must(&agentv1.ExecRequest{Command: []string{"echo", "hi"}, Env: map[string]string{"FUZZ_A": "b"}})},
		{auth: true, method: 0, payload: must(&agentv1.ExecRequest{Command: []string{"true"}, Background: true, Tag: "bg"})},
		{auth: true, method: 0, payload: must(&agentv1.ExecRequest{Command: []string{"no-such"}})},
		{auth: true, method: 0, payload: must(&agentv1.ExecRequest{Command: []string{""}})},
		{auth: true, method: 1, payload: must(&agentv1.SignalRequest{Tag: "bg"})},
		{auth: true, method: 1, payload: must(&agentv1.SignalRequest{Pid: -1, Signal: "WINCH"})},
		{auth: true, method: 2, payload: must(&agentv1.FileRequest{Files: []*agentv1.File{{Path: "a", Content: []byte("x")}}})},
		{auth: true, method: 2, payload: must(&agentv1.FileRequest{Files: []*agentv1.File{{Path: "../a"}}})},
		{auth: true, method: 3, payload: must(&agentv1.ReadFileRequest{Path: "a", Offset: -1})},
		{auth: true, method: 4, payload: must(&agentv1.ListProcessesRequest{LogTailBytes: 10})},
		{auth: true, method: 5, payload: must(&agentv1.ResetRequest{PreserveFiles: true})},
		{auth: true, method: 6, payload: append(append([]byte{}, start...), data...), split: uint16(len(start))},
		{auth: true, method: 6, payload: data},
		{auth: true, method: 6, split: noFrames},
		{auth: true, method: 0, split: noFrames},
		{auth: true, method: 4, payload: must(&agentv1.ListProcessesRequest{}), split: 1},
		{auth: true, method: 3, payload: []byte{0x0a, 0x02, 0xff, 0xfe}}, // path: invalid UTF-8
		{auth: true, method: 0, payload: []byte{0xff, 0xff, 0xff}},
		{auth: true, method: 7, name: "Nope"},
		{auth: true, method: 7, name: "Execute/../Reset"},
		{auth: true, method: 8, name: "grpc.health.v1.Health/Check"},
		{auth: true, method: 8, name: "other.Service/Execute"},
		{auth: true, method: 8, name: ""},
		{auth: false, method: 0, payload: must(&agentv1.ExecRequest{Command: []string{"echo", "pwned"}})},
		{auth: false, method: 5},
		{auth: false, method: 8, name: "grpc.health.v1.Health/Check"},
	} {
		f.Add(s.auth, s.method, s.name, s.payload, s.split)
	}
	f.Fuzz(func(t *testing.T, auth bool, methodSel uint8, name string, payload []byte, split uint16) {
		var method string
		switch sel := int(methodSel) % (len(agentMethods) + 2); {
		case sel < len(agentMethods):
			method = "/" + agentService + "/" + agentMethods[sel]
		case sel == len(agentMethods):
			method = "/" + agentService + "/" + name
		default:
			method = "/" + name
		}
		frames := [][]byte{payload}
		switch {
		case split == noFrames:
			frames = nil
		case int(split) > 0 && int(split) < len(payload):
			frames = [][]byte{payload[:split], payload[split:]}
		}
		// gRPC dispatches on the last '/' of the path.
		service, mname := "", ""
		i := strings.LastIndex(method[1:], "/")
		malformed := i < 0
		if !malformed {
			service, mname = method[1:][:i], method[1:][i+1:]
		}
		known := service == agentService && agentRequests[mname] != nil
		if known && !harmless(mname, frames) {
			t.Skip("the frames would run something the fuzz target does not allow")
		}
		if service == "grpc.health.v1.Health" && mname == "Watch" {
			t.Skip("Watch streams until the caller goes")
		}
		if known && mname == "InteractiveShell" {
			// Whatever the frames started, this ends it.
			frames = append(frames, mustMarshal(t, &agentv1.ShellInput{Input: &agentv1.ShellInput_Signal{Signal: "KILL"}}))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn := good.Conn()
		if !auth {
			conn = noCert.Conn()
		}
		err := callFrames(ctx, conn, method, frames)
		what := fmt.Sprintf("%s with %d frames %q", method, len(frames), frames)
		switch {
		case ctx.Err() != nil:
			t.Fatalf("%s did not end: %v", what, err)
		case !validHeaderValue(method):
			// HTTP/2 refuses the request's :path before serve sees it.
			wantCode(t, what, err, codes.Internal)
		case !auth:
			wantCode(t, what, err, codes.Unauthenticated)
		case malformed:
			wantCode(t, what, err, codes.Unimplemented)
		case service == agentService && !known, service != agentService && service != "grpc.health.v1.Health":
			wantCode(t, what, err, codes.Unimplemented)
		default:
			allowed := []codes.Code{codes.OK, codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition, codes.AlreadyExists, codes.Unimplemented}
			if !decodes(service, mname, frames) {
				allowed = append(allowed, codes.Internal)
			}
			if len(frames) == 0 && unary(service, mname) {
				// grpc-go answers a unary call without a request
				// message with the Unknown status "EOF", before any
				// handler or interceptor runs (grpc/grpc-go#7286).
				allowed = append(allowed, codes.Unknown)
			}
			wantCode(t, what, err, allowed...)
		}
		// The proxy still serves, and nothing the call started runs on.
		waitNothingRunning(ctx, t, good)
	})
}

// decodes reports whether a known method's frames are each a valid request,
// as many as the method takes.
func decodes(service, method string, frames [][]byte) bool {
	if service != agentService { // the health service
		return len(frames) == 1 && proto.Unmarshal(frames[0], &healthpb.HealthCheckRequest{}) == nil
	}
	if method != "InteractiveShell" && len(frames) != 1 {
		return false
	}
	for _, f := range frames {
		if proto.Unmarshal(f, agentRequests[method]()) != nil {
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s may be an HTTP/2 header value: no
// control characters but tab (RFC 9113 8.2.1; x/net/http/httpguts).
func validHeaderValue(s string) bool {
	for _, b := range []byte(s) {
		if (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// unary reports whether a method of the agent or of the health service
// takes exactly one request and answers one response.
func unary(service, method string) bool {
	if service == agentService {
		switch method {
		case "Execute", "InteractiveShell", "WriteFile", "ReadFileStream", "PackArchive", "UnpackArchive":
			return false
		}
		return true
	}
	return method != "Watch"
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantCode(t *testing.T, what string, err error, allowed ...codes.Code) {
	t.Helper()
	s, ok := status.FromError(err)
	if !ok {
		t.Fatalf("%s: %v is not a gRPC status", what, err)
	}
	for _, c := range allowed {
		if s.Code() == c {
			return
		}
	}
	t.Fatalf("%s: got %v, want one of %v", what, err, allowed)
}

func waitServing(tb testing.TB, c *client.Client) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for c.Health(ctx) != nil {
		select {
		case <-ctx.Done():
			tb.Fatal("serve never became SERVING")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// waitNothingRunning waits until the agent, asked through serve, runs no
// process.
func waitNothingRunning(ctx context.Context, t *testing.T, c *client.Client) {
	t.Helper()
	for {
		list, err := c.ListProcesses(ctx, &agentv1.ListProcessesRequest{})
		if err != nil {
			t.Fatalf("ListProcesses through serve after the call: %v", err)
		}
		running := 0
		for _, p := range list.GetProcesses() {
			if p.GetState() == agentv1.ProcessInfo_RUNNING {
				running++
			}
		}
		if running == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d processes still run after the call: %v", running, list)
		case <-time.After(time.Millisecond):
		}
	}
}

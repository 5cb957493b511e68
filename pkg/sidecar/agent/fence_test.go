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

package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// A Reset that releases a Sandbox ends the Sandbox's calls in flight before
// it empties the workspace, and refuses its later ones; other Sandboxes'
// calls, and calls for none, go on.
func TestResetFencesOffTheReleasedSandbox(t *testing.T) {
	if agent.SandboxMetadataKey != client.SandboxMetadataKey {
		t.Fatalf("the agent reads %q, the client writes %q", agent.SandboxMetadataKey, client.SandboxMetadataKey)
	}
	ta := startAgent(t, nil)
	leaving, next := ta.ForSandbox("uid-leaving"), ta.ForSandbox("uid-next")

	// A command of the leaving Sandbox that would write into the workspace
	// after the Reset, were it left running.
	done := make(chan error, 1)
	go func() {
		_, err := leaving.Run(ctx(t), cmd("sh", "-c", "sleep 2; echo late > "+filepath.Join(ta.workspace, "late")))
		done <- err
	}()
	if !eventually(t, 5*time.Millisecond, func() bool {
		resp, _ := ta.ListProcesses(ctx(t), &agentv1.ListProcessesRequest{})
		return len(resp.GetProcesses()) == 1
	}) {
		t.Fatal("the leaving Sandbox's command was never listed")
	}
	if _, err := next.Reset(ctx(t), &agentv1.ResetRequest{ReleaseSandbox: "uid-next"}); err == nil {
		t.Error("a Sandbox's own call released it (it would wait for itself)")
	} else {
		wantCode(t, err, codes.InvalidArgument)
	}
	if _, err := ta.Reset(ctx(t), &agentv1.ResetRequest{ReleaseSandbox: "uid-leaving"}); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	select {
	case err := <-done:
		// Ended by the release, and saying so.
		wantCode(t, err, codes.FailedPrecondition)
	case <-time.After(10 * time.Second):
		t.Fatal("the leaving Sandbox's command still runs after the Reset")
	}
	// Reset returns once the processes are reaped: the command is gone.
	if _, err := os.Stat(filepath.Join(ta.workspace, "late")); !os.IsNotExist(err) {
		t.Errorf("the leaving Sandbox wrote into the workspace after the Reset (stat: %v)", err)
	}

	_, err := leaving.Run(ctx(t), cmd("true"))
	wantCode(t, err, codes.FailedPrecondition)
	_, err = leaving.UpdateFiles(ctx(t), &agentv1.FileRequest{Files: []*agentv1.File{{Path: "f", Content: []byte("x")}}})
	wantCode(t, err, codes.FailedPrecondition)
	if res, err := next.Run(ctx(t), cmd("echo", "ok")); err != nil || string(res.Stdout) != "ok\n" {
		t.Errorf("the next Sandbox's call: %v %v", res, err)
	}
	if res, err := ta.Run(ctx(t), cmd("true")); err != nil || res.ExitCode != 0 {
		t.Errorf("a call for no Sandbox: %v %v", res, err)
	}
}

// A call of the released Sandbox that does not end when cancelled (an
// upload its client holds open) fails the Reset: the pod is not handed on
// while it may still write.
func TestResetFailsWhileAReleasedSandboxsCallHangs(t *testing.T) {
	ta := startAgent(t, nil)
	stream, err := ta.ForSandbox("uid-uploading").API().WriteFile(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&agentv1.WriteFileChunk{Header: &agentv1.WriteFileHeader{Path: "upload.bin"}, Content: []byte("part")}); err != nil {
		t.Fatal(err)
	}
	if !eventually(t, 5*time.Millisecond, func() bool {
		temps, _ := filepath.Glob(filepath.Join(ta.workspace, ".upload.bin.arl-*"))
		return len(temps) == 1
	}) {
		t.Fatal("the upload never started writing")
	}
	short, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = ta.Reset(short, &agentv1.ResetRequest{ReleaseSandbox: "uid-uploading"})
	if err == nil {
		t.Fatal("Reset succeeded while the released Sandbox's upload was still open")
	}
}

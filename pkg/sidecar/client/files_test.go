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

package client_test

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// endless is a body that never ends: only the agent's refusal can stop a
// call reading it.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// When the agent ends a call while the client still sends, the client
// answers the agent's status, not the EOF its Send got.
func TestStreamingWritesAnswerTheAgentsRefusal(t *testing.T) {
	c, err := client.Dial(context.Background(), client.Target{Address: serveAgent(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	_, err = c.WriteFile(ctx(t), &agentv1.WriteFileHeader{Path: "../escape"}, endless{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("WriteFile of a refused path: %v, want InvalidArgument", err)
	}

	var hostile bytes.Buffer
	tw := tar.NewWriter(&hostile)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "../x", Mode: 0o644, Size: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = c.UnpackArchive(ctx(t), "dst", io.MultiReader(&hostile, endless{}))
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `"../x"`) {
		t.Fatalf("UnpackArchive of a hostile entry: %v, want InvalidArgument naming it", err)
	}
}

func TestFileWrappersRoundTrip(t *testing.T) {
	c, err := client.Dial(context.Background(), client.Target{Address: serveAgent(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	content := bytes.Repeat([]byte("0123456789abcdef"), client.ChunkBytes/8) // two chunks
	if _, err := c.MakeDir(ctx(t), &agentv1.MakeDirRequest{Path: "d"}); err != nil {
		t.Fatal(err)
	}
	info, err := c.WriteFile(ctx(t), &agentv1.WriteFileHeader{Path: "d/f"}, bytes.NewReader(content))
	if err != nil || info.GetSize() != int64(len(content)) {
		t.Fatalf("WriteFile: %v %v", info, err)
	}
	var back bytes.Buffer
	if st, err := c.ReadFileStream(ctx(t), &agentv1.ReadFileRequest{Path: "d/f"}, &back); err != nil || !bytes.Equal(back.Bytes(), content) || st.GetSize() != int64(len(content)) {
		t.Fatalf("ReadFileStream: %d bytes, %v %v", back.Len(), st, err)
	}
	if st, err := c.Stat(ctx(t), &agentv1.StatRequest{Path: "d"}); err != nil || st.GetType() != agentv1.FileStat_DIRECTORY {
		t.Fatalf("Stat: %v %v", st, err)
	}
	if list, err := c.ListDir(ctx(t), &agentv1.ListDirRequest{Path: "d"}); err != nil || len(list.GetEntries()) != 1 {
		t.Fatalf("ListDir: %v %v", list, err)
	}
	var archive bytes.Buffer
	if err := c.PackArchive(ctx(t), &agentv1.PackArchiveRequest{Path: "d"}, &archive); err != nil {
		t.Fatal(err)
	}
	resp, err := c.UnpackArchive(ctx(t), "e", &archive)
	if err != nil || resp.GetEntries() != 1 || resp.GetBytes() != int64(len(content)) {
		t.Fatalf("UnpackArchive: %v %v", resp, err)
	}
	if _, err := c.Remove(ctx(t), &agentv1.RemoveRequest{Path: "d", Recursive: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat(ctx(t), &agentv1.StatRequest{Path: "d"}); status.Code(err) != codes.NotFound {
		t.Fatalf("Stat after Remove: %v", err)
	}
	// An empty body is an empty file.
	if info, err := c.WriteFile(ctx(t), &agentv1.WriteFileHeader{Path: "empty"}, strings.NewReader("")); err != nil || info.GetSize() != 0 {
		t.Fatalf("empty WriteFile: %v %v", info, err)
	}
}

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
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

func TestUpdateFilesWritesManyFilesAtomically(t *testing.T) {
	ta := startAgent(t, nil)
	outside := t.TempDir()
	resp, err := ta.UpdateFiles(ctx(t), &agentv1.FileRequest{
		CreateParents: true,
		Files: []*agentv1.File{
			{Path: "hello.py", Content: []byte("print('Hello from ARL!')\n")},
			{Path: "deep/er/run.sh", Content: []byte("#!/bin/sh\necho ran\n"), Mode: 0o755},
			{Path: filepath.Join(outside, "bin.dat"), Content: []byte{0, 1, 2, 255}, Mode: 0o600},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetFiles()) != 3 || resp.GetFiles()[0].GetPath() != filepath.Join(ta.workspace, "hello.py") {
		t.Fatalf("response %v", resp)
	}
	for path, want := range map[string]struct {
		content string
		mode    os.FileMode
	}{
		filepath.Join(ta.workspace, "hello.py"):       {"print('Hello from ARL!')\n", 0o644},
		filepath.Join(ta.workspace, "deep/er/run.sh"): {"#!/bin/sh\necho ran\n", 0o755},
		filepath.Join(outside, "bin.dat"):             {"\x00\x01\x02\xff", 0o600},
	} {
		b, err := os.ReadFile(path)
		if err != nil || string(b) != want.content {
			t.Errorf("%s: %q, %v; want %q", path, b, err, want.content)
		}
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want.mode {
			t.Errorf("%s: mode %v, want %v", path, st.Mode().Perm(), want.mode)
		}
	}
	// The written script runs: the agent sees what it wrote.
	if res := ta.run(t, cmd("./deep/er/run.sh")); string(res.Stdout) != "ran\n" {
		t.Errorf("script printed %q", res.Stdout)
	}
	// No temporary file is left beside the targets.
	entries, _ := os.ReadDir(filepath.Join(ta.workspace, "deep/er"))
	if len(entries) != 1 {
		t.Errorf("deep/er holds %d entries, want only run.sh", len(entries))
	}
}

func TestUpdateFilesOverwriteKeepsTheMode(t *testing.T) {
	ta := startAgent(t, nil)
	p := filepath.Join(ta.workspace, "tool")
	if err := os.WriteFile(p, []byte("old"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o750); err != nil {
		t.Fatal(err)
	}
	writeWorkspaceFile(t, ta, "tool", []byte("new"))
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o750 {
		t.Fatalf("mode after overwrite %v (%v), want 0750", st.Mode().Perm(), err)
	}
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("content %q", b)
	}
}

func TestUpdateFilesRefusesEscapesAndWritesNothing(t *testing.T) {
	root := t.TempDir()
	ta := startAgent(t, func(c *agent.Config) {
		c.Workspace = filepath.Join(root, "ws")
		c.AllowedRoots = []string{filepath.Join(root, "ws")}
	})
	// A link inside the root that leads out of it.
	if err := os.Symlink("/etc", filepath.Join(ta.workspace, "etc-link")); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"dot-dot":          "../escape",
		"absolute dot-dot": ta.workspace + "/../escape",
		"outside root":     filepath.Join(root, "escape"),
		"through symlink":  "etc-link/arl-test-escape",
		"empty":            "",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ta.UpdateFiles(ctx(t), &agentv1.FileRequest{CreateParents: true, Files: []*agentv1.File{
				{Path: "first-ok", Content: []byte("x")},
				{Path: path, Content: []byte("x")},
			}})
			wantCode(t, err, codes.InvalidArgument)
			if _, err := os.Stat(filepath.Join(ta.workspace, "first-ok")); !os.IsNotExist(err) {
				t.Errorf("a valid file was written although the request was refused")
			}
		})
	}
	if _, err := os.Stat("/etc/arl-test-escape"); !os.IsNotExist(err) {
		t.Fatal("wrote through the symlink")
	}
	_, err := ta.ReadFile(ctx(t), &agentv1.ReadFileRequest{Path: "etc-link/hostname"})
	wantCode(t, err, codes.InvalidArgument)
	_, err = ta.UpdateFiles(ctx(t), &agentv1.FileRequest{Files: []*agentv1.File{{Path: "f", Mode: 0o170000}}})
	wantCode(t, err, codes.InvalidArgument)
}

// A symbolic link loop met while checking a path against the allowed roots
// is the path's fault, as the kernel's ELOOP is: FailedPrecondition, not
// the Internal error filepath.EvalSymlinks' own loop error used to give.
func TestPathCheckReportsASymlinkLoop(t *testing.T) {
	ta := startAgent(t, func(c *agent.Config) { c.AllowedRoots = []string{c.Workspace} })
	if err := os.Symlink("loop", filepath.Join(ta.workspace, "loop")); err != nil {
		t.Fatal(err)
	}
	_, err := ta.UpdateFiles(ctx(t), &agentv1.FileRequest{Files: []*agentv1.File{{Path: "loop/x"}}})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = ta.ReadFile(ctx(t), &agentv1.ReadFileRequest{Path: "loop"})
	wantCode(t, err, codes.FailedPrecondition)
}

func TestUpdateFilesErrors(t *testing.T) {
	ta := startAgent(t, nil)
	_, err := ta.UpdateFiles(ctx(t), &agentv1.FileRequest{Files: []*agentv1.File{{Path: "no/parent/f"}}})
	wantCode(t, err, codes.NotFound)
	if err := os.Mkdir(filepath.Join(ta.workspace, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = ta.UpdateFiles(ctx(t), &agentv1.FileRequest{Files: []*agentv1.File{{Path: "dir"}}})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = ta.UpdateFiles(ctx(t), &agentv1.FileRequest{})
	wantCode(t, err, codes.InvalidArgument)
}

func TestReadFile(t *testing.T) {
	ta := startAgent(t, nil)
	content := bytes.Repeat([]byte("0123456789"), 100)
	writeWorkspaceFile(t, ta, "data", content)
	resp, err := ta.ReadFile(ctx(t), &agentv1.ReadFileRequest{Path: "data"})
	if err != nil || !bytes.Equal(resp.GetContent(), content) || resp.GetTruncated() || resp.GetSize() != 1000 {
		t.Fatalf("whole read: %v %v", resp, err)
	}
	resp, err = ta.ReadFile(ctx(t), &agentv1.ReadFileRequest{Path: "data", Offset: 995, MaxBytes: 3})
	if err != nil || string(resp.GetContent()) != "567" || !resp.GetTruncated() {
		t.Fatalf("range read: %v %v", resp, err)
	}
	_, err = ta.ReadFile(ctx(t), &agentv1.ReadFileRequest{Path: "missing"})
	wantCode(t, err, codes.NotFound)
	_, err = ta.ReadFile(ctx(t), &agentv1.ReadFileRequest{Path: "/"})
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("reading a directory: %v", err)
	}
	wantCode(t, err, codes.FailedPrecondition)
}

// A FIFO, a socket or a directory is refused at once: opening a FIFO used to
// wait for a writer forever (and hold one of the agent's threads), and a
// socket, which cannot be opened, was an Internal error.
func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	ta := startAgent(t, nil)
	if err := unix.Mkfifo(filepath.Join(ta.workspace, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(ta.workspace, "sock"), unix.S_IFSOCK|0o644, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(ta.workspace, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"fifo", "sock", "dir"} {
		// Bounded: a read that blocks fails here rather than hanging.
		callCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := ta.ReadFile(callCtx, &agentv1.ReadFileRequest{Path: name})
		cancel()
		if status.Code(err) != codes.FailedPrecondition || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("ReadFile(%s): %v; want FailedPrecondition, not a regular file", name, err)
		}
	}
}

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
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// randomReader is n pseudo-random bytes, the same for the same seed,
// produced as they are read (never held whole).
func randomReader(seed byte, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{seed}), n)
}

// dirNames lists dir's entries (temporary files included).
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names
}

func TestWriteFileAndReadFileStreamRoundTrip64MiB(t *testing.T) {
	ta := startAgent(t, nil)
	const size = 64 << 20
	sent := sha256.New()
	info, err := ta.WriteFile(ctx(t), &agentv1.WriteFileHeader{Path: "deep/big.bin", Mode: 0o640, CreateParents: true},
		io.TeeReader(randomReader(1, size), sent))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(ta.workspace, "deep/big.bin")
	if info.GetPath() != path || info.GetSize() != size || info.GetMode() != 0o640 {
		t.Fatalf("WriteFile answered %v", info)
	}
	if st, err := os.Stat(path); err != nil || st.Size() != size || st.Mode().Perm() != 0o640 {
		t.Fatalf("on disk: %v %v", st, err)
	}
	if names := dirNames(t, filepath.Dir(path)); len(names) != 1 {
		t.Fatalf("beside the file: %v, want only big.bin", names)
	}
	got := sha256.New()
	st, err := ta.ReadFileStream(ctx(t), &agentv1.ReadFileRequest{Path: "deep/big.bin"}, got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatal("the content read back differs from the content written")
	}
	if st.GetPath() != path || st.GetType() != agentv1.FileStat_FILE || st.GetSize() != size || st.GetMode() != 0o640 || st.GetModTimeNanos() == 0 {
		t.Fatalf("ReadFileStream described %v", st)
	}
}

func TestReadFileStreamRanges(t *testing.T) {
	ta := startAgent(t, nil)
	const size = 3*agent.ChunkBytes + 123 // several chunks and a partial one
	content, err := io.ReadAll(randomReader(2, size))
	if err != nil {
		t.Fatal(err)
	}
	writeWorkspaceFile(t, ta, "data", content)
	for _, tc := range []struct {
		name             string
		offset, maxBytes int64
		want             []byte
	}{
		{"whole", 0, 0, content},
		{"offset to the end", 1000, 0, content[1000:]},
		{"range across chunks", agent.ChunkBytes - 10, agent.ChunkBytes + 20, content[agent.ChunkBytes-10 : 2*agent.ChunkBytes+10]},
		{"max past the end", size - 5, 100, content[size-5:]},
		{"offset at the end", size, 0, nil},
		{"offset past the end", size + 100, 10, nil},
		{"one byte", 7, 1, content[7:8]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got bytes.Buffer
			st, err := ta.ReadFileStream(ctx(t), &agentv1.ReadFileRequest{Path: "data", Offset: tc.offset, MaxBytes: tc.maxBytes}, &got)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), tc.want) {
				t.Fatalf("got %d bytes, want %d (or different ones)", got.Len(), len(tc.want))
			}
			if st.GetSize() != size {
				t.Fatalf("size %d, want the whole file's %d", st.GetSize(), size)
			}
		})
	}
}

// The first message carries the description alone; an empty file sends
// nothing else.
func TestReadFileStreamMessages(t *testing.T) {
	ta := startAgent(t, nil)
	writeWorkspaceFile(t, ta, "empty", nil)
	writeWorkspaceFile(t, ta, "small", []byte("hello"))
	for name, want := range map[string][]string{"empty": {""}, "small": {"", "hello"}} {
		stream, err := ta.API().ReadFileStream(ctx(t), &agentv1.ReadFileRequest{Path: name})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := 0; ; i++ {
			m, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if (i == 0) != (m.GetInfo() != nil) {
				t.Fatalf("%s: message %d: info %v", name, i, m.GetInfo())
			}
			got = append(got, string(m.GetContent()))
		}
		if len(got) != len(want) || got[len(got)-1] != want[len(want)-1] {
			t.Fatalf("%s: messages %q, want %q", name, got, want)
		}
	}
}

func TestReadFileStreamRefusals(t *testing.T) {
	ta := startAgent(t, func(c *agent.Config) { c.AllowedRoots = []string{c.Workspace} })
	if err := unix.Mkfifo(filepath.Join(ta.workspace, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(ta.workspace, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(ta.workspace, "etc-link")); err != nil {
		t.Fatal(err)
	}
	writeWorkspaceFile(t, ta, "f", []byte("x"))
	for _, tc := range []struct {
		name string
		req  *agentv1.ReadFileRequest
		code codes.Code
	}{
		{"fifo", &agentv1.ReadFileRequest{Path: "fifo"}, codes.FailedPrecondition},
		{"directory", &agentv1.ReadFileRequest{Path: "dir"}, codes.FailedPrecondition},
		{"missing", &agentv1.ReadFileRequest{Path: "missing"}, codes.NotFound},
		{"negative offset", &agentv1.ReadFileRequest{Path: "f", Offset: -1}, codes.InvalidArgument},
		{"negative max", &agentv1.ReadFileRequest{Path: "f", MaxBytes: -1}, codes.InvalidArgument},
		{"dot-dot", &agentv1.ReadFileRequest{Path: "../f"}, codes.InvalidArgument},
		{"through a link outside", &agentv1.ReadFileRequest{Path: "etc-link/hostname"}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := ta.ReadFileStream(ctx(t), tc.req, &out)
			wantCode(t, err, tc.code)
			if out.Len() != 0 {
				t.Fatalf("%d bytes written before the refusal", out.Len())
			}
		})
	}
}

// OpenFile gives the description before the content, and closing it early
// ends the call.
func TestOpenFileDescribesBeforeContent(t *testing.T) {
	ta := startAgent(t, nil)
	content, _ := io.ReadAll(randomReader(3, 4*agent.ChunkBytes))
	writeWorkspaceFile(t, ta, "f", content)
	st, r, err := ta.OpenFile(ctx(t), &agentv1.ReadFileRequest{Path: "f"})
	if err != nil {
		t.Fatal(err)
	}
	if st.GetSize() != int64(len(content)) {
		t.Fatalf("size %d", st.GetSize())
	}
	head := make([]byte, 10)
	if _, err := io.ReadFull(r, head); err != nil || !bytes.Equal(head, content[:10]) {
		t.Fatalf("first bytes %q, %v", head, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); err == nil {
		t.Fatal("reading on after Close succeeded")
	}
}

func TestWriteFileKeepsTheModeRulesOfUpdateFiles(t *testing.T) {
	ta := startAgent(t, nil)
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	tool := filepath.Join(ta.workspace, "tool")
	if err := os.WriteFile(tool, []byte("old"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tool, 0o750); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		mode uint32
		want os.FileMode
	}{
		{"tool", 0, 0o750},      // an overwritten file keeps its mode
		{"new", 0, 0o644},       // the default, whatever the umask
		{"exact", 0o604, 0o604}, // exactly the mode asked, whatever the umask
	} {
		info, err := ta.WriteFile(ctx(t), &agentv1.WriteFileHeader{Path: tc.path, Mode: tc.mode}, bytes.NewReader([]byte("new")))
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(filepath.Join(ta.workspace, tc.path))
		if err != nil || st.Mode().Perm() != tc.want || info.GetMode() != uint32(tc.want) || info.GetSize() != 3 {
			t.Errorf("%s: mode %v (answered %#o), want %v", tc.path, st.Mode().Perm(), info.GetMode(), tc.want)
		}
	}
}

func TestWriteFileRefusals(t *testing.T) {
	ta := startAgent(t, func(c *agent.Config) { c.AllowedRoots = []string{c.Workspace} })
	if err := os.Symlink("/etc", filepath.Join(ta.workspace, "etc-link")); err != nil {
		t.Fatal(err)
	}
	writeWorkspaceFile(t, ta, "target", []byte("old"))
	header := func(p string) *agentv1.WriteFileChunk {
		return &agentv1.WriteFileChunk{Header: &agentv1.WriteFileHeader{Path: p}}
	}
	for _, tc := range []struct {
		name     string
		messages []*agentv1.WriteFileChunk
		code     codes.Code
	}{
		{"no message", nil, codes.InvalidArgument},
		{"content before the header", []*agentv1.WriteFileChunk{{Content: []byte("x")}, header("target")}, codes.InvalidArgument},
		{"header twice", []*agentv1.WriteFileChunk{header("target"), {Content: []byte("new")}, header("target")}, codes.InvalidArgument},
		{"mode beyond permissions", []*agentv1.WriteFileChunk{{Header: &agentv1.WriteFileHeader{Path: "target", Mode: 0o170000}}}, codes.InvalidArgument},
		{"dot-dot", []*agentv1.WriteFileChunk{header("../x")}, codes.InvalidArgument},
		{"through a link outside", []*agentv1.WriteFileChunk{header("etc-link/arl-test-escape")}, codes.InvalidArgument},
		{"empty path", []*agentv1.WriteFileChunk{header("")}, codes.InvalidArgument},
		{"missing parent", []*agentv1.WriteFileChunk{header("no/parent")}, codes.NotFound},
		{"a directory", []*agentv1.WriteFileChunk{header(".")}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream, err := ta.API().WriteFile(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tc.messages {
				if err := stream.Send(m); err != nil {
					break // the status follows
				}
			}
			_, err = stream.CloseAndRecv()
			wantCode(t, err, tc.code)
			if b, _ := os.ReadFile(filepath.Join(ta.workspace, "target")); string(b) != "old" {
				t.Fatalf("target holds %q", b)
			}
			if names := dirNames(t, ta.workspace); len(names) != 2 {
				t.Fatalf("workspace holds %v, want only target and etc-link", names)
			}
		})
	}
	if _, err := os.Lstat("/etc/arl-test-escape"); !os.IsNotExist(err) {
		t.Fatal("wrote through the link")
	}
}

// A cancelled WriteFile removes its temporary file and leaves the old
// content in place.
func TestWriteFileCancelledLeavesTheOldContent(t *testing.T) {
	ta := startAgent(t, nil)
	writeWorkspaceFile(t, ta, "target", []byte("old"))
	callCtx, cancel := context.WithCancel(ctx(t))
	defer cancel()
	stream, err := ta.API().WriteFile(callCtx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&agentv1.WriteFileChunk{Header: &agentv1.WriteFileHeader{Path: "target"}, Content: make([]byte, 1<<20)}); err != nil {
		t.Fatal(err)
	}
	// The agent is writing: its temporary file is there.
	if !eventually(t, 5*time.Millisecond, func() bool { return len(dirNames(t, ta.workspace)) == 2 }) {
		t.Fatalf("no temporary file appeared: %v", dirNames(t, ta.workspace))
	}
	cancel()
	if !eventually(t, 5*time.Millisecond, func() bool { return len(dirNames(t, ta.workspace)) == 1 }) {
		t.Fatalf("the temporary file stayed: %v", dirNames(t, ta.workspace))
	}
	if b, _ := os.ReadFile(filepath.Join(ta.workspace, "target")); string(b) != "old" {
		t.Fatalf("target holds %d bytes, want the old content", len(b))
	}
}

// A reader that fails makes the client cancel the call: nothing is written.
func TestWriteFileReaderErrorWritesNothing(t *testing.T) {
	ta := startAgent(t, nil)
	failing := io.MultiReader(randomReader(4, 3*agent.ChunkBytes), iotestErrReader{})
	_, err := ta.WriteFile(ctx(t), &agentv1.WriteFileHeader{Path: "f"}, failing)
	if !errors.Is(err, errBrokenReader) {
		t.Fatalf("got %v, want the reader's error", err)
	}
	if !eventually(t, 5*time.Millisecond, func() bool { return len(dirNames(t, ta.workspace)) == 0 }) {
		t.Fatalf("workspace holds %v after a failed write", dirNames(t, ta.workspace))
	}
}

var errBrokenReader = errors.New("broken reader")

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errBrokenReader }

// 200 MiB go through WriteFile and ReadFileStream while the test process
// (client and agent) holds a small fraction of it: neither side keeps a
// whole file.
func TestStreamsHoldBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 400 MiB")
	}
	ta := startAgent(t, nil)
	const size = 200 << 20
	peak := heapPeak(t)
	sent := sha256.New()
	if _, err := ta.WriteFile(ctx(t), &agentv1.WriteFileHeader{Path: "huge"}, io.TeeReader(randomReader(5, size), sent)); err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	if _, err := ta.ReadFileStream(ctx(t), &agentv1.ReadFileRequest{Path: "huge"}, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Fatal("the content read back differs")
	}
	const limit = 64 << 20
	if p := peak(); p > limit {
		t.Fatalf("the heap grew by %d MiB moving a 200 MiB file, want at most %d MiB", p>>20, limit>>20)
	} else {
		t.Logf("heap growth peaked at %d MiB", p>>20)
	}
}

// heapPeak samples the heap until the returned function is called, which
// returns the largest growth over the heap at the start.
func heapPeak(t *testing.T) func() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var mu sync.Mutex
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			mu.Lock()
			if ms.HeapInuse > base && ms.HeapInuse-base > peak {
				peak = ms.HeapInuse - base
			}
			mu.Unlock()
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	stop := func() uint64 {
		select {
		case <-done:
		default:
			close(done)
		}
		<-stopped
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
	t.Cleanup(func() { stop() })
	return stop
}

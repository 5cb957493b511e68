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
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// filesFixture is a workspace, the only allowed root, beside things that
// must never change: a directory and a file outside it. The workspace holds
// symbolic links out of it and back in, a FIFO and a socket (files a read
// must not block on or choke at), and is rebuilt after any input that may
// have written to it.
type filesFixture struct {
	root, ws, outside, outsideFile string
	// dirty: an UpdateFiles may have written to the workspace since reset.
	dirty bool
}

const outsideContent = "must not change\n"

func newFilesFixture(tb testing.TB) *filesFixture {
	tb.Helper()
	// Short: the socket's path must fit in 108 bytes.
	root, err := os.MkdirTemp("", "arl-fuzz-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(root) })
	fx := &filesFixture{root: root, ws: filepath.Join(root, "ws"), outside: filepath.Join(root, "outside"), outsideFile: filepath.Join(root, "outside-file")}
	for _, d := range []string{fx.ws, fx.outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.WriteFile(fx.outsideFile, []byte(outsideContent), 0o644); err != nil {
		tb.Fatal(err)
	}
	return fx
}

// reset empties the workspace and lays out its fixed contents again, when
// an UpdateFiles may have changed them.
func (fx *filesFixture) reset(t testing.TB) {
	t.Helper()
	if !fx.dirty {
		return
	}
	fx.dirty = false
	entries, err := os.ReadDir(fx.ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(fx.ws, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	steps := []error{
		os.WriteFile(filepath.Join(fx.ws, "file"), []byte("0123456789"), 0o644),
		os.MkdirAll(filepath.Join(fx.ws, "sub", "deeper"), 0o755),
		os.WriteFile(filepath.Join(fx.ws, "sub", "inner"), []byte("inner"), 0o600),
		os.Symlink(fx.outside, filepath.Join(fx.ws, "link-out")),
		os.Symlink(fx.outsideFile, filepath.Join(fx.ws, "link-file-out")),
		os.Symlink("sub", filepath.Join(fx.ws, "link-in")),
		os.Symlink("loop", filepath.Join(fx.ws, "loop")),
		unix.Mkfifo(filepath.Join(fx.ws, "fifo"), 0o644),
		unix.Mknod(filepath.Join(fx.ws, "sock"), unix.S_IFSOCK|0o644, 0),
	}
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkOutsideUntouched fails if anything outside the workspace changed.
func (fx *filesFixture) checkOutsideUntouched(t *testing.T) {
	t.Helper()
	entries, err := os.ReadDir(fx.root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"outside", "outside-file", "ws"}) {
		t.Fatalf("the fixture's root holds %q: something was written beside the workspace", names)
	}
	if inside, _ := os.ReadDir(fx.outside); len(inside) != 0 {
		t.Fatalf("%s holds %d entries: something was written outside the workspace", fx.outside, len(inside))
	}
	if b, err := os.ReadFile(fx.outsideFile); err != nil || string(b) != outsideContent {
		t.Fatalf("%s changed: %q, %v", fx.outsideFile, b, err)
	}
	st, err := os.Lstat(fx.outsideFile)
	if err != nil || st.Mode() != 0o644 {
		t.Fatalf("%s changed: mode %v, %v", fx.outsideFile, st.Mode(), err)
	}
}

// fixtureEntries is how many entries reset lays out under the workspace.
const fixtureEntries = 10

// checkWorkspace fails if a write left its temporary file behind, or if
// the workspace changed although no UpdateFiles could have written to it.
func (fx *filesFixture) checkWorkspace(t *testing.T) {
	t.Helper()
	entries := -1 // the workspace itself
	_ = filepath.WalkDir(fx.ws, func(p string, d fs.DirEntry, err error) error {
		entries++
		if err == nil && strings.Contains(d.Name(), ".arl-") && strings.HasPrefix(d.Name(), ".") {
			t.Fatalf("temporary file %s left behind", p)
		}
		return nil
	})
	if !fx.dirty && entries != fixtureEntries {
		t.Fatalf("the workspace holds %d entries, not %d, after requests that wrote nothing", entries, fixtureEntries)
	}
}

// lexicallyRefused is the agent's documented rule for a path that is
// refused before the filesystem is looked at: empty, a NUL byte, a ".."
// element (in the path or the base), or, cleaned, outside the workspace
// (the only allowed root here).
func lexicallyRefused(ws, base, p string) bool {
	if p == "" || strings.ContainsRune(p+base, 0) || hasDotDotElem(p) || hasDotDotElem(base) {
		return true
	}
	switch {
	case base == "":
		base = ws
	case !filepath.IsAbs(base):
		base = filepath.Join(ws, base)
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return !inDir(filepath.Clean(p), ws)
}

func hasDotDotElem(p string) bool { return slices.Contains(strings.Split(p, "/"), "..") }

func inDir(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// FuzzFiles sends hostile UpdateFiles and ReadFile requests (paths with
// "..", NUL, invalid UTF-8, through symbolic links out of the workspace, at
// FIFOs, sockets and directories; modes with more than permission bits;
// offsets and sizes negative or huge) to a real agent whose only allowed
// root is a temporary workspace. Whatever the input: a refused path writes
// nothing, nothing outside the workspace changes, no temporary file stays,
// a written file reads back as written, a read answers at once with the
// bytes on disk, and errors carry the code a client can act on (never
// Internal or Unknown). FuzzLexicalPath fuzzes the path rules alone.
//
// Seeds: testdata/fuzz/FuzzFiles and the f.Add calls below. Run longer:
// go test -run '^$' -fuzz '^FuzzFiles$' -fuzztime 5m ./pkg/sidecar/agent
func FuzzFiles(f *testing.F) {
	fx := newFilesFixture(f)
	fx.dirty = true
	ta := startAgent(f, func(c *agent.Config) {
		c.Workspace = fx.ws
		c.AllowedRoots = []string{fx.ws}
	})
	type seed struct {
		base, paths   string
		content       []byte
		mode          uint32
		parents       bool
		read          string
		offset, limit int64
	}
	for _, s := range []seed{
		{paths: "hello.py", content: []byte("print(1)\n"), read: "hello.py"},
		{paths: "a/b/c\nd", content: []byte{0, 1, 0xff}, mode: 0o755, parents: true, read: "a/b/c", offset: 1, limit: 1},
		{paths: "../x", read: "../x"},
		{base: "..", paths: "x", read: "/etc/passwd"},
		{paths: "link-out/x", parents: true, read: "link-out"},
		{paths: "link-out/new/deeper/x", parents: true, read: "link-file-out"},
		{paths: "link-file-out", content: []byte("replaced the link"), read: "link-file-out"},
		{paths: "link-in/x", read: "link-in/inner"},
		{base: "link-out", paths: "x", read: "link-out/../outside-file"},
		{paths: "loop/x", read: "loop"},
		{paths: "x", read: "fifo"},
		{paths: "fifo", content: []byte("over the fifo"), read: "fifo"},
		{paths: "sock/x", read: "sock"},
		{paths: "sub", read: "sub"},
		{paths: "file/x", read: "file", offset: 1 << 62},
		{paths: "x", mode: 0o10000, read: "file", offset: -1},
		{paths: "x", mode: 0o4777, read: "file", limit: -1},
		{paths: "", read: ""},
		{paths: "a\x00b", read: "a\x00b"},
		{paths: "\xff\xfe", base: "\xc0", read: "\xff"},
		{paths: ".", read: "."},
		{paths: "/", read: "/"},
		{paths: strings.Repeat("n", 300), read: strings.Repeat("d/", 3000)},
		{paths: "same\nsame\nsame/x", content: []byte("last wins"), read: "same"},
	} {
		f.Add(s.base, s.paths, s.content, s.mode, s.parents, s.read, s.offset, s.limit)
	}
	f.Fuzz(func(t *testing.T, base, paths string, content []byte, mode uint32, parents bool, read string, offset, limit int64) {
		fx.reset(t)
		ctx, cancel := context.WithTimeout(context.Background(), fuzzCallTimeout)
		defer cancel()
		fuzzUpdateFiles(ctx, t, ta, fx, base, paths, content, mode, parents)
		fx.checkOutsideUntouched(t)
		fx.checkWorkspace(t)
		fuzzReadFile(ctx, t, ta, fx, read, offset, limit)
	})
}

func fuzzUpdateFiles(ctx context.Context, t *testing.T, ta *testAgent, fx *filesFixture, base, paths string, content []byte, mode uint32, parents bool) {
	req := &agentv1.FileRequest{BasePath: base, CreateParents: parents}
	if paths != "" {
		for i, p := range strings.Split(paths, "\n") {
			if i == 8 {
				break
			}
			req.Files = append(req.Files, &agentv1.File{Path: p, Content: content, Mode: mode})
		}
	}
	names := []string{base}
	for _, f := range req.Files {
		names = append(names, f.Path)
	}
	if !validUTF8(names...) {
		err := invokeRaw(ctx, ta.Conn(), "/arl.agent.v1.AgentService/UpdateFiles", marshalLax(req.ProtoReflect()))
		wantCodeIn(t, "UpdateFiles with invalid UTF-8", err, codes.Internal)
		return
	}
	resp, err := ta.UpdateFiles(ctx, req)
	refused := len(req.Files) == 0 || mode&^0o7777 != 0
	for _, f := range req.Files {
		refused = refused || lexicallyRefused(fx.ws, base, f.Path)
	}
	if refused {
		wantCodeIn(t, "UpdateFiles of a refused path", err, codes.InvalidArgument)
		return
	}
	// Filesystem answers: a link out of the workspace, a missing parent,
	// something in the way. Any but the first may come after some files
	// were written.
	fx.dirty = true
	wantCodeIn(t, "UpdateFiles", err, codes.OK, codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition)
	if err != nil {
		return
	}
	if len(resp.GetFiles()) != len(req.Files) {
		t.Fatalf("UpdateFiles wrote %d files of %d", len(resp.GetFiles()), len(req.Files))
	}
	real := map[string][]byte{}
	for _, info := range resp.GetFiles() {
		p := info.GetPath()
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if !inDir(p, fx.ws) || err != nil || !inDir(dir, fx.ws) {
			t.Fatalf("UpdateFiles wrote %s (directory %s, %v): outside the workspace", p, dir, err)
		}
		real[p] = content
	}
	for p, want := range real {
		st, err := os.Lstat(p)
		if err != nil || !st.Mode().IsRegular() {
			t.Fatalf("%s is not a regular file after UpdateFiles: %v, %v", p, st, err)
		}
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s holds %q, %v; want %q", p, got, err, want)
		}
		if got := st.Sys().(*syscall.Stat_t).Mode & 0o7777; mode != 0 && got != mode {
			t.Fatalf("%s has mode %#o, want %#o", p, got, mode)
		}
	}
}

func fuzzReadFile(ctx context.Context, t *testing.T, ta *testAgent, fx *filesFixture, path string, offset, limit int64) {
	req := &agentv1.ReadFileRequest{Path: path, Offset: offset, MaxBytes: limit}
	if !validUTF8(path) {
		err := invokeRaw(ctx, ta.Conn(), "/arl.agent.v1.AgentService/ReadFile", marshalLax(req.ProtoReflect()))
		wantCodeIn(t, "ReadFile with invalid UTF-8", err, codes.Internal)
		return
	}
	resp, err := ta.ReadFile(ctx, req)
	if offset < 0 || limit < 0 || lexicallyRefused(fx.ws, "", path) {
		wantCodeIn(t, "ReadFile of a refused path", err, codes.InvalidArgument)
		return
	}
	wantCodeIn(t, "ReadFile "+path, err, codes.OK, codes.InvalidArgument, codes.NotFound, codes.FailedPrecondition)
	if err != nil {
		return
	}
	p := resp.GetPath()
	real, err := filepath.EvalSymlinks(p)
	if err != nil || !inDir(real, fx.ws) {
		t.Fatalf("ReadFile read %s (%s, %v): outside the workspace", p, real, err)
	}
	all, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{}
	if offset < int64(len(all)) {
		want = all[offset:]
	}
	if limit > 0 && int64(len(want)) > limit {
		want = want[:limit]
	}
	if !bytes.Equal(resp.GetContent(), want) || resp.GetSize() != int64(len(all)) ||
		resp.GetTruncated() != (offset+int64(len(want)) < int64(len(all))) {
		t.Fatalf("ReadFile(%q, %d, %d) = %q size %d truncated %v; the file holds %q", path, offset, limit, resp.GetContent(), resp.GetSize(), resp.GetTruncated(), all)
	}
}

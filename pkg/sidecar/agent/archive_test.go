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
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

type tarEntry struct {
	hdr  *tar.Header
	body []byte
}

// readTar parses a whole archive, failing the test if it is not valid.
func readTar(t *testing.T, data []byte) []tarEntry {
	t.Helper()
	var out []tarEntry
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("invalid archive: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("invalid archive: entry %s: %v", hdr.Name, err)
		}
		out = append(out, tarEntry{hdr, body})
	}
}

// tarOf builds an archive; an entry's body is written when it has one.
func tarOf(t *testing.T, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if e.hdr.Typeflag == tar.TypeReg {
			e.hdr.Size = int64(len(e.body))
		}
		if e.hdr.Mode == 0 {
			e.hdr.Mode = 0o644
		}
		if err := tw.WriteHeader(e.hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func regEntry(name, body string) tarEntry {
	return tarEntry{&tar.Header{Typeflag: tar.TypeReg, Name: name}, []byte(body)}
}

func dirEntry(name string) tarEntry {
	return tarEntry{&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755}, nil}
}

func linkEntry(name, target string) tarEntry {
	return tarEntry{&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}, nil}
}

type treeNode struct {
	typ    fs.FileMode
	mode   uint32 // st_mode & 07777
	body   string
	target string
	mtime  int64 // seconds
}

// walkTree describes every entry below root, without following links.
func walkTree(t *testing.T, root string) map[string]treeNode {
	t.Helper()
	out := map[string]treeNode{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		n := treeNode{typ: d.Type(), mode: st.Mode & 0o7777, mtime: st.Mtim.Sec}
		switch {
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n.body = string(b)
		case d.Type()&fs.ModeSymlink != 0:
			if n.target, err = os.Readlink(p); err != nil {
				return err
			}
		}
		out[rel] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// emptyDir fails the test unless dir exists and holds nothing.
func emptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 0 {
		t.Fatalf("%s holds %v (%v), want nothing", dir, entries, err)
	}
}

func TestPackAndUnpackRoundTrip(t *testing.T) {
	ta := startAgent(t, nil)
	src := filepath.Join(ta.workspace, "src")
	long := strings.Repeat("n", 120) // past ustar's 100 bytes: a PAX name
	makeTree(t, src, "run.sh", "secret", "big.bin", "e1/e2/e3/", "ro/f", "sticky/", "setuid",
		long, "e1/link -> ../run.sh", "abs -> /nonexistent/target", "dirlink -> e1")
	big, _ := io.ReadAll(randomReader(6, 2*agent.ChunkBytes+17))
	if err := os.WriteFile(filepath.Join(src, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(src, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1600000000, 0)
	for name, mode := range map[string]uint32{
		"run.sh": 0o755, "secret": 0o600, "e1/e2": 0o700, "ro/f": 0o444, "sticky": 0o1777, "setuid": 0o4755,
		"e1/e2/e3": 0o750, "ro": 0o555,
	} {
		p := filepath.Join(src, name)
		if err := unix.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"run.sh", "e1/e2/e3", "e1/e2", "ro", "sticky"} {
		if err := os.Chtimes(filepath.Join(src, name), mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Lutimes(filepath.Join(src, "dirlink"), []unix.Timeval{unix.NsecToTimeval(mtime.UnixNano()), unix.NsecToTimeval(mtime.UnixNano())}); err != nil {
		t.Fatal(err)
	}

	var archive bytes.Buffer
	if err := ta.PackArchive(ctx(t), &agentv1.PackArchiveRequest{Path: "src"}, &archive); err != nil {
		t.Fatal(err)
	}
	entries := readTar(t, archive.Bytes())
	names := map[string]*tar.Header{}
	var size int64
	for _, e := range entries {
		names[e.hdr.Name] = e.hdr
		size += int64(len(e.body))
	}
	for _, want := range []string{"run.sh", "e1/", "e1/e2/", "e1/e2/e3/", "e1/link", "ro/", "ro/f", long, "dirlink", "abs"} {
		if names[want] == nil {
			t.Errorf("the archive has no %q", want)
		}
	}
	for name, h := range names {
		if strings.HasPrefix(name, "./") || strings.HasPrefix(name, "/") || (h.Typeflag == tar.TypeDir) != strings.HasSuffix(name, "/") {
			t.Errorf("entry name %q (type %c)", name, h.Typeflag)
		}
	}
	if names["fifo"] != nil {
		t.Error("the FIFO was packed")
	}
	if h := names["setuid"]; h == nil || h.Mode != 0o4755 {
		t.Errorf("setuid packed as %v", h)
	}
	if h := names["e1/link"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "../run.sh" {
		t.Errorf("e1/link packed as %v", h)
	}
	if h := names["run.sh"]; h == nil || !h.ModTime.Equal(mtime) || h.Mode != 0o755 {
		t.Errorf("run.sh packed as %v", h)
	}

	resp, err := ta.UnpackArchive(ctx(t), "dst", bytes.NewReader(archive.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetPath() != filepath.Join(ta.workspace, "dst") || resp.GetEntries() != int64(len(entries)) || resp.GetBytes() != size {
		t.Fatalf("UnpackArchive answered %v; the archive holds %d entries, %d bytes", resp, len(entries), size)
	}

	// Straight from one call to the other, through a pipe: neither holds
	// the archive.
	pr, pw := io.Pipe()
	callCtx := ctx(t)
	go func() { pw.CloseWithError(ta.PackArchive(callCtx, &agentv1.PackArchiveRequest{Path: "src"}, pw)) }()
	if _, err := ta.UnpackArchive(callCtx, "dst-piped", pr); err != nil {
		t.Fatal(err)
	}

	want := walkTree(t, src)
	delete(want, "fifo")
	// Setuid and setgid are dropped on extraction.
	n := want["setuid"]
	n.mode = 0o755
	want["setuid"] = n
	for _, dst := range []string{"dst", "dst-piped"} {
		got := walkTree(t, filepath.Join(ta.workspace, dst))
		if len(got) != len(want) {
			t.Errorf("%s holds %d entries, want %d", dst, len(got), len(want))
		}
		for name, w := range want {
			g, ok := got[name]
			if !ok {
				t.Errorf("%s: %s is missing", dst, name)
				continue
			}
			if g.typ != w.typ || g.body != w.body || g.target != w.target || (w.typ != fs.ModeSymlink && g.mode != w.mode) {
				t.Errorf("%s: %s is %+v, want %+v", dst, name, g, w)
			}
			if w.mtime == mtime.Unix() && g.mtime != w.mtime {
				t.Errorf("%s: %s has mtime %d, want %d", dst, name, g.mtime, w.mtime)
			}
		}
	}
}

func TestPackArchiveOfOneFile(t *testing.T) {
	ta := startAgent(t, nil)
	makeTree(t, ta.workspace, "dir/tool")
	if err := os.Chmod(filepath.Join(ta.workspace, "dir/tool"), 0o751); err != nil {
		t.Fatal(err)
	}
	var archive bytes.Buffer
	if err := ta.PackArchive(ctx(t), &agentv1.PackArchiveRequest{Path: "dir/tool"}, &archive); err != nil {
		t.Fatal(err)
	}
	entries := readTar(t, archive.Bytes())
	if len(entries) != 1 || entries[0].hdr.Name != "tool" || entries[0].hdr.Mode != 0o751 || string(entries[0].body) != "content of dir/tool" {
		t.Fatalf("archive of one file: %+v", entries)
	}
}

func TestPackArchiveRefusals(t *testing.T) {
	ta, outside := restricted(t)
	if err := unix.Mkfifo(filepath.Join(ta.workspace, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	makeTree(t, ta.workspace, "out -> "+outside)
	for path, code := range map[string]codes.Code{
		"missing":       codes.NotFound,
		"fifo":          codes.FailedPrecondition,
		"out":           codes.InvalidArgument,
		outside:         codes.InvalidArgument,
		"../x":          codes.InvalidArgument,
		"out/secret":    codes.InvalidArgument,
		"missing/below": codes.NotFound,
	} {
		var archive bytes.Buffer
		err := ta.PackArchive(ctx(t), &agentv1.PackArchiveRequest{Path: path}, &archive)
		if status.Code(err) != code || archive.Len() != 0 {
			t.Errorf("PackArchive(%s): %v with %d bytes written, want %v and nothing", path, err, archive.Len(), code)
		}
	}
}

// Hostile archives fail with InvalidArgument naming the entry, and nothing
// lands outside the target: with the whole filesystem allowed (the
// default), openat2 is the only guard.
func TestUnpackArchiveRefusesHostileEntries(t *testing.T) {
	ta := startAgent(t, nil)
	outside := t.TempDir()
	outsideFile := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(outsideFile, []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, tc := range []struct {
		name    string
		entries []tarEntry
		bad     string // the refused entry's name
	}{
		{"dot-dot", []tarEntry{regEntry("../x", "pwned")}, "../x"},
		{"dot-dot into outside", []tarEntry{regEntry("../../"+filepath.Base(outside)+"/x", "pwned")}, "../../" + filepath.Base(outside) + "/x"},
		{"absolute", []tarEntry{regEntry(outside+"/abs", "pwned")}, outside + "/abs"},
		{"inner dot-dot", []tarEntry{dirEntry("a/"), regEntry("a/../../x", "pwned")}, "a/../../x"},
		{"dot-dot directory", []tarEntry{dirEntry("../d/")}, "../d/"},
		{"dot-dot link", []tarEntry{linkEntry("../l", "/etc")}, "../l"},
		{"link out, then through it", []tarEntry{linkEntry("a", outside), regEntry("a/pwned", "pwned")}, "a/pwned"},
		{"link up, then through it", []tarEntry{linkEntry("a", ".."), regEntry("a/x", "pwned")}, "a/x"},
		{"link up, then a directory through it", []tarEntry{linkEntry("a", "../.."), dirEntry("a/d/")}, "a/d/"},
		{"link up, then a link through it", []tarEntry{linkEntry("a", ".."), linkEntry("a/l", "x")}, "a/l"},
		{"nested link out", []tarEntry{dirEntry("d/"), linkEntry("d/up", "../.."), regEntry("d/up/x", "pwned")}, "d/up/x"},
		{"hard link", []tarEntry{{&tar.Header{Typeflag: tar.TypeLink, Name: "h", Linkname: outsideFile}, nil}}, "h"},
		{"character device", []tarEntry{{&tar.Header{Typeflag: tar.TypeChar, Name: "null", Devmajor: 1, Devminor: 3}, nil}}, "null"},
		{"block device", []tarEntry{{&tar.Header{Typeflag: tar.TypeBlock, Name: "sda", Devmajor: 8}, nil}}, "sda"},
		{"FIFO", []tarEntry{{&tar.Header{Typeflag: tar.TypeFifo, Name: "fifo"}, nil}}, "fifo"},
		{"file named like the target", []tarEntry{regEntry(".", "x")}, "."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := fmt.Sprintf("sub%d/dst", i)
			entries := append([]tarEntry{regEntry("before", "kept")}, tc.entries...)
			_, err := ta.UnpackArchive(ctx(t), target, bytes.NewReader(tarOf(t, entries...)))
			wantCode(t, err, codes.InvalidArgument)
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.bad)) {
				t.Errorf("the error does not name the entry %q: %v", tc.bad, err)
			}
			emptyDir(t, outside)
			// The entries before the refused one stay; nothing lands
			// beside the target.
			if b, err := os.ReadFile(filepath.Join(ta.workspace, target, "before")); string(b) != "kept" {
				t.Errorf("the entry before the refused one: %q, %v", b, err)
			}
			if entries, _ := os.ReadDir(filepath.Join(ta.workspace, fmt.Sprintf("sub%d", i))); len(entries) != 1 {
				t.Errorf("beside the target: %v", entries)
			}
		})
	}
	if b, _ := os.ReadFile(outsideFile); string(b) != "outside" {
		t.Fatalf("the file outside holds %q", b)
	}
	if _, err := os.Lstat(filepath.Join(ta.workspace, "x")); !os.IsNotExist(err) {
		t.Fatal("an entry landed in the workspace, outside its target")
	}
}

// Links already in the target are no way out either.
func TestUnpackArchiveDoesNotWriteThroughExistingLinks(t *testing.T) {
	ta := startAgent(t, nil)
	outside := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(ta.workspace, "dst")
	makeTree(t, dst, "esc -> "+outside, "up -> ..", "file-link -> "+secret)
	for _, tc := range []struct {
		entries []tarEntry
		bad     string
	}{
		{[]tarEntry{regEntry("esc/pwned", "x")}, "esc/pwned"},
		{[]tarEntry{dirEntry("esc/sub/")}, "esc/sub/"},
		{[]tarEntry{linkEntry("esc/l", "x")}, "esc/l"},
		{[]tarEntry{regEntry("up/pwned", "x")}, "up/pwned"},
		{[]tarEntry{regEntry("esc/deep/er/pwned", "x")}, "esc/deep/er/pwned"},
	} {
		_, err := ta.UnpackArchive(ctx(t), "dst", bytes.NewReader(tarOf(t, tc.entries...)))
		wantCode(t, err, codes.InvalidArgument)
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.bad)) {
			t.Errorf("the error does not name %q: %v", tc.bad, err)
		}
		emptyDir(t, outside)
	}
	if _, err := os.Lstat(filepath.Join(ta.workspace, "pwned")); !os.IsNotExist(err) {
		t.Fatal("wrote through the link to the target's parent")
	}
	// A file entry replaces a link of its name; it never writes through it.
	if _, err := ta.UnpackArchive(ctx(t), "dst", bytes.NewReader(tarOf(t, regEntry("file-link", "new")))); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(secret); string(b) != "secret" {
		t.Fatalf("the link's target now holds %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(dst, "file-link")); err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("file-link after extraction: %v %v", fi, err)
	}
}

func TestUnpackArchiveModesAndTimes(t *testing.T) {
	ta := startAgent(t, nil)
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	mtime := time.Unix(1500000000, 0)
	var paxGlobal bytes.Buffer
	tw := tar.NewWriter(&paxGlobal)
	// What git archive writes first: attributes, not an entry.
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "abc"}}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	archive := append(paxGlobal.Bytes(), tarOf(t,
		tarEntry{&tar.Header{Typeflag: tar.TypeReg, Name: "suid", Mode: 0o6755, ModTime: mtime}, []byte("#!/bin/sh\n")},
		tarEntry{&tar.Header{Typeflag: tar.TypeDir, Name: "ro/", Mode: 0o555, ModTime: mtime}, nil},
		tarEntry{&tar.Header{Typeflag: tar.TypeReg, Name: "ro/inside", Mode: 0o640, ModTime: mtime}, []byte("x")},
		tarEntry{&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777, ModTime: mtime}, nil},
		tarEntry{&tar.Header{Typeflag: tar.TypeSymlink, Name: "link", Linkname: "suid", ModTime: mtime}, nil},
		tarEntry{&tar.Header{Typeflag: tar.TypeReg, Name: "implicit/parents/f", Mode: 0o600}, []byte("y")},
		tarEntry{&tar.Header{Typeflag: tar.TypeDir, Name: "./", Mode: 0o711}, nil},
	)...)
	resp, err := ta.UnpackArchive(ctx(t), "dst", bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetEntries() != 6 || resp.GetBytes() != int64(len("#!/bin/sh\nxy")) {
		t.Fatalf("answered %v", resp)
	}
	dst := filepath.Join(ta.workspace, "dst")
	for name, want := range map[string]uint32{"suid": 0o755, "ro": 0o555, "ro/inside": 0o640, "tmp": 0o1777, "implicit/parents/f": 0o600} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dst, name), &st); err != nil || st.Mode&0o7777 != want {
			t.Errorf("%s: mode %#o (%v), want %#o", name, st.Mode&0o7777, err, want)
		}
	}
	for _, name := range []string{"suid", "ro", "ro/inside", "tmp", "link"} {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(dst, name), &st); err != nil || st.Mtim.Sec != mtime.Unix() {
			t.Errorf("%s: mtime %d (%v), want %d", name, st.Mtim.Sec, err, mtime.Unix())
		}
	}
	// The target's own mode is the caller's business, not the archive's.
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() == 0o711 {
		t.Errorf("the target's mode became the archive's ./: %v", fi.Mode())
	}
	if target, _ := os.Readlink(filepath.Join(dst, "link")); target != "suid" {
		t.Errorf("link -> %q", target)
	}
}

func TestUnpackArchiveConflictsAndReplacements(t *testing.T) {
	ta := startAgent(t, nil)
	dst := filepath.Join(ta.workspace, "dst")
	makeTree(t, dst, "file", "full/x", "dir/", "old-link -> nowhere")
	for _, tc := range []struct {
		name    string
		entries []tarEntry
		code    codes.Code
	}{
		{"a directory over a file", []tarEntry{dirEntry("file/")}, codes.FailedPrecondition},
		{"a file over a directory", []tarEntry{regEntry("full", "x")}, codes.FailedPrecondition},
		{"a link over a directory", []tarEntry{linkEntry("dir", "x")}, codes.FailedPrecondition},
		{"a file below a file", []tarEntry{regEntry("file/x", "x")}, codes.FailedPrecondition},
		{"an existing directory", []tarEntry{dirEntry("dir/"), regEntry("dir/new", "new")}, codes.OK},
		{"a file over a file", []tarEntry{regEntry("file", "replaced")}, codes.OK},
		{"a link over a link", []tarEntry{linkEntry("old-link", "file")}, codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ta.UnpackArchive(ctx(t), "dst", bytes.NewReader(tarOf(t, tc.entries...)))
			wantCode(t, err, tc.code)
		})
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "file")); string(b) != "replaced" {
		t.Errorf("file holds %q", b)
	}
	if target, _ := os.Readlink(filepath.Join(dst, "old-link")); target != "file" {
		t.Errorf("old-link -> %q", target)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "full/x")); string(b) != "content of full/x" {
		t.Errorf("full/x holds %q", b)
	}
	// No temporary file is left behind by the failures.
	for name := range walkTree(t, dst) {
		if strings.Contains(name, ".arl-") {
			t.Errorf("left behind: %s", name)
		}
	}
}

func TestUnpackArchiveBadStreams(t *testing.T) {
	ta, outside := restricted(t)
	good := tarOf(t, regEntry("a", strings.Repeat("x", 10000)), regEntry("b", "y"))
	makeTree(t, ta.workspace, "file", "out -> "+outside)
	for _, tc := range []struct {
		name    string
		path    string
		archive []byte
		code    codes.Code
	}{
		{"truncated in a file", "t1", good[:1024], codes.InvalidArgument},
		{"truncated in a header", "t2", good[:100], codes.InvalidArgument},
		{"not an archive", "t3", bytes.Repeat([]byte("garbage!"), 200), codes.InvalidArgument},
		{"empty path", "", good, codes.InvalidArgument},
		{"dot-dot path", "../x", good, codes.InvalidArgument},
		{"a file as the target", "file", good, codes.FailedPrecondition},
		{"a link outside as the target", "out", good, codes.InvalidArgument},
		{"below a link outside", "out/sub", good, codes.InvalidArgument},
		{"nothing at all: an empty archive", "t4", nil, codes.OK},
		{"the whole workspace", ".", good, codes.OK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ta.UnpackArchive(ctx(t), tc.path, bytes.NewReader(tc.archive))
			wantCode(t, err, tc.code)
			if names := dirNames(t, outside); len(names) != 1 {
				t.Fatalf("outside holds %v, want only secret", names)
			}
		})
	}
	// The path belongs on the first message only.
	stream, err := ta.API().UnpackArchive(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.Send(&agentv1.UnpackArchiveChunk{Path: "p", Content: good[:512]})
	_ = stream.Send(&agentv1.UnpackArchiveChunk{Path: "p", Content: good[512:]})
	_, err = stream.CloseAndRecv()
	wantCode(t, err, codes.InvalidArgument)
	// No message at all.
	stream, err = ta.API().UnpackArchive(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = stream.CloseAndRecv()
	wantCode(t, err, codes.InvalidArgument)
}

// A file swapped for a link to a file outside, between the walk's stat and
// its open, is never read through the link: the open refuses any link
// (openat2 RESOLVE_NO_SYMLINKS). The swaps race the packs; with a plain
// open(2) the secret shows up in an archive within a few hundred packs.
func TestPackArchiveNeverReadsThroughASwappedLink(t *testing.T) {
	ta := startAgent(t, nil)
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("SECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(ta.workspace, "src")
	const files = 16
	for i := range files {
		makeTree(t, src, fmt.Sprintf("f%02d", i))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; !stop.Load(); n++ {
			name := filepath.Join(src, fmt.Sprintf("f%02d", n%files))
			tmp := name + ".swap"
			if n/files%2 == 0 {
				_ = os.Symlink(secret, tmp)
			} else {
				_ = os.WriteFile(tmp, []byte("inside"), 0o644)
			}
			_ = os.Rename(tmp, name)
		}
	}()
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	deadline := time.Now().Add(2 * time.Second)
	packs, links := 0, 0
	for ; time.Now().Before(deadline) || packs < 50; packs++ {
		var archive bytes.Buffer
		if err := ta.PackArchive(ctx(t), &agentv1.PackArchiveRequest{Path: "src"}, &archive); err != nil {
			t.Fatal(err)
		}
		for _, e := range readTar(t, archive.Bytes()) {
			if bytes.Contains(e.body, []byte("SECRET")) {
				t.Fatalf("pack %d: %s carries the content of the file outside", packs, e.hdr.Name)
			}
			if e.hdr.Typeflag == tar.TypeSymlink {
				links++
			}
		}
	}
	t.Logf("%d packs, %d links seen", packs, links)
}

// Files that grow and shrink while packed still give valid archives: each
// entry holds exactly the size its header declares.
func TestPackArchiveStaysValidWhileFilesChangeSize(t *testing.T) {
	ta := startAgent(t, nil)
	src := filepath.Join(ta.workspace, "src")
	makeTree(t, src, "a", "b", "c")
	var stop atomic.Bool
	var wg sync.WaitGroup
	chunk := bytes.Repeat([]byte("z"), 64<<10)
	for _, name := range []string{"a", "b", "c"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := filepath.Join(src, name)
			for n := 0; !stop.Load(); n++ {
				if n%8 == 0 {
					_ = os.Truncate(p, 0)
					continue
				}
				if f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0); err == nil {
					_, _ = f.Write(chunk)
					f.Close()
				}
			}
		}()
	}
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	for range 30 {
		var archive bytes.Buffer
		if err := ta.PackArchive(ctx(t), &agentv1.PackArchiveRequest{Path: "src"}, &archive); err != nil {
			t.Fatal(err)
		}
		readTar(t, archive.Bytes()) // fails the test on an invalid archive
	}
}

// Cancelling an extraction stops it and leaves no temporary file.
func TestUnpackArchiveCancelled(t *testing.T) {
	ta := startAgent(t, nil)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: "big", Mode: 0o644, Size: 64 << 20}
	var head bytes.Buffer
	tw := tar.NewWriter(&head)
	if err := tw.WriteHeader(hdr); err != nil { // written at once, unflushed
		t.Fatal(err)
	}
	// The header and 1 MiB of its 64: the rest never comes.
	pr, pw := io.Pipe()
	go func() {
		_, _ = pw.Write(head.Bytes())
		_, _ = pw.Write(make([]byte, 1<<20))
	}()
	callCtx, cancel := context.WithCancel(ctx(t))
	done := make(chan error, 1)
	go func() {
		_, err := ta.UnpackArchive(callCtx, "dst", pr)
		done <- err
	}()
	dst := filepath.Join(ta.workspace, "dst")
	if !eventually(t, 5*time.Millisecond, func() bool { e, _ := os.ReadDir(dst); return len(e) == 1 }) {
		t.Fatal("the extraction never started its file")
	}
	cancel()
	pw.Close()
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Fatalf("cancelled extraction: %v", err)
	}
	if !eventually(t, 5*time.Millisecond, func() bool { e, _ := os.ReadDir(dst); return len(e) == 0 }) {
		t.Fatalf("left behind: %v", dirNames(t, dst))
	}
}

// Archives carry names as bytes: one that is not UTF-8 travels as it is.
func TestArchiveNamesThatAreNotUTF8(t *testing.T) {
	ta := startAgent(t, nil)
	makeTree(t, filepath.Join(ta.workspace, "src"), "bad\xff", "link -> \xfe")
	var archive bytes.Buffer
	if err := ta.PackArchive(ctx(t), &agentv1.PackArchiveRequest{Path: "src"}, &archive); err != nil {
		t.Fatal(err)
	}
	if _, err := ta.UnpackArchive(ctx(t), "dst", &archive); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(ta.workspace, "dst", "bad\xff")); err != nil || string(b) != "content of bad\xff" {
		t.Fatalf("bad\\xff: %q %v", b, err)
	}
	if target, err := os.Readlink(filepath.Join(ta.workspace, "dst", "link")); err != nil || target != "\xfe" {
		t.Fatalf("link -> %q %v", target, err)
	}
}

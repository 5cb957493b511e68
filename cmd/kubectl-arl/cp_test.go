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

package main

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCopyArg(t *testing.T) {
	for arg, want := range map[string]*remotePath{
		"ws:/workspace/a": {sandbox: "ws", path: "/workspace/a"},
		"ws:rel/a":        {sandbox: "ws", path: "rel/a"},
		"./ws:/a":         nil,
		"/tmp/ws:/a":      nil,
		"dir/ws:a":        nil,
		"plain":           nil,
		":a":              nil,
	} {
		got, local, err := parseCopyArg(arg)
		switch {
		case err != nil:
			t.Errorf("%q: %v", arg, err)
		case want == nil && (got != nil || local != arg):
			t.Errorf("%q: got remote %+v, local %q; want local", arg, got, local)
		case want != nil && (got == nil || *got != *want):
			t.Errorf("%q: got %+v; want %+v", arg, got, want)
		}
	}
	if _, _, err := parseCopyArg("ws:"); err == nil {
		t.Error(`"ws:": want an error for the empty path`)
	}
}

// hostileEntry is one entry of an archive a sandbox could send.
type hostileEntry struct {
	header  tar.Header
	content string
}

func archiveOf(t *testing.T, entries ...hostileEntry) *tar.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := e.header
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.content))
		}
		if h.Mode == 0 {
			h.Mode = 0o644
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.content); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return tar.NewReader(&buf)
}

func extractAll(t *testing.T, archive *tar.Reader, dest string) error {
	t.Helper()
	first, err := archive.Next()
	if err != nil {
		t.Fatal(err)
	}
	return extractTree(archive, first, dest)
}

// TestExtractTreeRefusesEscapes: nothing a hostile archive holds is written
// outside the destination.
func TestExtractTreeRefusesEscapes(t *testing.T) {
	reg := func(name, content string) hostileEntry {
		return hostileEntry{header: tar.Header{Name: name, Typeflag: tar.TypeReg}, content: content}
	}
	link := func(name, target string) hostileEntry {
		return hostileEntry{header: tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: target}}
	}
	for name, entries := range map[string][]hostileEntry{
		"dot-dot":                 {reg("../escaped", "x")},
		"dot-dot inside":          {reg("a/../../escaped", "x")},
		"absolute":                {reg("/escaped", "x")},
		"through an outside link": {link("out", "OUTSIDE"), reg("out/escaped", "x")},
		"through a relative link": {link("up", ".."), reg("up/escaped", "x")},
		"device":                  {{header: tar.Header{Name: "null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3}}},
		"fifo":                    {{header: tar.Header{Name: "fifo", Typeflag: tar.TypeFifo}}},
		"hard link":               {{header: tar.Header{Name: "hard", Typeflag: tar.TypeLink, Linkname: "OUTSIDE/victim"}}},
	} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			outside := filepath.Join(parent, "outside")
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			for i := range entries {
				entries[i].header.Linkname = strings.ReplaceAll(entries[i].header.Linkname, "OUTSIDE", outside)
			}
			dest := filepath.Join(parent, "dest")
			if err := extractAll(t, archiveOf(t, entries...), dest); err == nil {
				t.Error("the archive was extracted; want it refused")
			}
			for _, p := range []string{filepath.Join(parent, "escaped"), filepath.Join(outside, "escaped"), "/escaped"} {
				if _, err := os.Lstat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
		})
	}
}

// TestExtractTreeReplacesLinks: a file named as a link already there
// replaces the link instead of writing through it.
func TestExtractTreeReplacesLinks(t *testing.T) {
	parent := t.TempDir()
	victim := filepath.Join(parent, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(parent, "dest")
	err := extractAll(t, archiveOf(t,
		hostileEntry{header: tar.Header{Name: "f", Typeflag: tar.TypeSymlink, Linkname: victim}},
		hostileEntry{header: tar.Header{Name: "f", Typeflag: tar.TypeReg}, content: "overwritten"},
	), dest)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the link's target was overwritten: %q", b)
	}
	if b, err := os.ReadFile(filepath.Join(dest, "f")); err != nil || string(b) != "overwritten" {
		t.Errorf("dest/f: %q, %v", b, err)
	}
}

// TestArchiveRoundTrip: a tree packed for upload and extracted again keeps
// its contents, modes and links, read-only directories included.
func TestArchiveRoundTrip(t *testing.T) {
	src := t.TempDir()
	for name, content := range map[string]string{"a/b/deep.txt": "deep", "top.txt": "top", "run.sh": "#!/bin/sh\n"} {
		if err := os.MkdirAll(filepath.Join(src, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(src, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a/b/deep.txt", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "a", "b"), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(src, "a", "b"), 0o755) })

	var buf bytes.Buffer
	if err := writeTreeArchive(&buf, src, io.Discard); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "dest")
	if err := extractAll(t, tar.NewReader(&buf), dest); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(dest, "a", "b"), 0o755) })
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == src {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		want, _ := os.Lstat(p)
		got, err := os.Lstat(filepath.Join(dest, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if got.Mode() != want.Mode() {
			t.Errorf("%s: mode %v, want %v", rel, got.Mode(), want.Mode())
		}
		if want.Mode().IsRegular() {
			w, _ := os.ReadFile(p)
			g, _ := os.ReadFile(filepath.Join(dest, rel))
			if !bytes.Equal(g, w) {
				t.Errorf("%s: content %q, want %q", rel, g, w)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(dest, "link")); err != nil || target != "a/b/deep.txt" {
		t.Errorf("link: %q, %v", target, err)
	}
}

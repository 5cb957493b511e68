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
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// makeTree creates files ("name": content), directories ("name/") and
// symbolic links ("name -> target") under root.
func makeTree(t *testing.T, root string, spec ...string) {
	t.Helper()
	for _, s := range spec {
		p := filepath.Join(root, s)
		var err error
		switch {
		case strings.Contains(s, " -> "):
			name, target, _ := strings.Cut(s, " -> ")
			p = filepath.Join(root, name)
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = os.Symlink(target, p)
			}
		case strings.HasSuffix(s, "/"):
			err = os.MkdirAll(p, 0o755)
		default:
			if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
				err = os.WriteFile(p, []byte("content of "+s), 0o644)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// restricted starts an agent whose only allowed root is its workspace, and
// returns a directory outside it.
func restricted(t *testing.T) (*testAgent, string) {
	root := t.TempDir()
	ta := startAgent(t, func(c *agent.Config) {
		c.Workspace = filepath.Join(root, "ws")
		c.AllowedRoots = []string{c.Workspace}
	})
	outside := filepath.Join(root, "outside")
	makeTree(t, outside, "secret")
	return ta, outside
}

func TestStat(t *testing.T) {
	ta, outside := restricted(t)
	makeTree(t, ta.workspace, "dir/", "file", "link -> "+filepath.Join(outside, "secret"), "out -> "+outside)
	if err := unix.Chmod(filepath.Join(ta.workspace, "file"), 0o4751); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1700000000, 5)
	if err := os.Chtimes(filepath.Join(ta.workspace, "file"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want *agentv1.FileStat
	}{
		{"file", &agentv1.FileStat{Type: agentv1.FileStat_FILE, Size: int64(len("content of file")), Mode: 0o4751, ModTimeNanos: mtime.UnixNano()}},
		{"dir", &agentv1.FileStat{Type: agentv1.FileStat_DIRECTORY, Mode: 0o755}},
		// A final link is described, not followed, wherever it points.
		{"link", &agentv1.FileStat{Type: agentv1.FileStat_SYMLINK, Mode: 0o777, LinkTarget: filepath.Join(outside, "secret")}},
		{"out", &agentv1.FileStat{Type: agentv1.FileStat_SYMLINK, Mode: 0o777, LinkTarget: outside}},
		// An allowed root itself, though its directory is outside.
		{ta.workspace, &agentv1.FileStat{Type: agentv1.FileStat_DIRECTORY, Mode: 0o755}},
	} {
		got, err := ta.Stat(ctx(t), &agentv1.StatRequest{Path: tc.path})
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if got.GetPath() != filepath.Join(ta.workspace, tc.path) && got.GetPath() != tc.path {
			t.Errorf("%s: path %q", tc.path, got.GetPath())
		}
		if got.GetType() != tc.want.GetType() || got.GetMode() != tc.want.GetMode() || got.GetLinkTarget() != tc.want.GetLinkTarget() ||
			(tc.want.GetSize() != 0 && got.GetSize() != tc.want.GetSize()) ||
			(tc.want.GetModTimeNanos() != 0 && got.GetModTimeNanos() != tc.want.GetModTimeNanos()) {
			t.Errorf("%s: got %v, want %v", tc.path, got, tc.want)
		}
	}
	for path, code := range map[string]codes.Code{
		"missing":     codes.NotFound,
		"../x":        codes.InvalidArgument,
		"out/secret":  codes.InvalidArgument, // through a link leading outside
		outside:       codes.InvalidArgument,
		"":            codes.InvalidArgument,
		"file/x":      codes.FailedPrecondition, // ENOTDIR
		"dir/missing": codes.NotFound,
	} {
		_, err := ta.Stat(ctx(t), &agentv1.StatRequest{Path: path})
		if err == nil {
			t.Errorf("Stat(%q) succeeded", path)
			continue
		}
		wantCode(t, err, code)
	}
}

func TestListDir(t *testing.T) {
	ta, outside := restricted(t)
	makeTree(t, ta.workspace, "a/b/c.txt", "a/b/d/e/", "a.txt", "a-c", "z-link -> a", "out -> "+outside, "empty/")
	paths := func(resp *agentv1.ListDirResponse) []string {
		var out []string
		for _, e := range resp.GetEntries() {
			out = append(out, strings.TrimPrefix(e.GetPath(), ta.workspace+"/"))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		req   *agentv1.ListDirRequest
		want  []string
		trunc bool
	}{
		{"default depth", &agentv1.ListDirRequest{Path: "."},
			[]string{"a", "a-c", "a.txt", "empty", "out", "z-link"}, false},
		{"depth 2", &agentv1.ListDirRequest{Path: ".", Depth: 2},
			[]string{"a", "a-c", "a.txt", "a/b", "empty", "out", "z-link"}, false},
		{"depth 64", &agentv1.ListDirRequest{Path: ".", Depth: 64},
			[]string{"a", "a-c", "a.txt", "a/b", "a/b/c.txt", "a/b/d", "a/b/d/e", "empty", "out", "z-link"}, false},
		{"a subdirectory", &agentv1.ListDirRequest{Path: "a/b", Depth: 2},
			[]string{"a/b/c.txt", "a/b/d", "a/b/d/e"}, false},
		// The listed directory may be a link (inside the roots); links
		// below it are never followed.
		{"through a link", &agentv1.ListDirRequest{Path: "z-link"}, []string{"z-link/b"}, false},
		{"empty", &agentv1.ListDirRequest{Path: "empty"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := ta.ListDir(ctx(t), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(resp); !slices.Equal(got, tc.want) || resp.GetTruncated() != tc.trunc {
				t.Fatalf("got %q (truncated %v), want %q", got, resp.GetTruncated(), tc.want)
			}
		})
	}

	resp, err := ta.ListDir(ctx(t), &agentv1.ListDirRequest{Path: ".", Depth: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range resp.GetEntries() {
		switch filepath.Base(e.GetPath()) {
		case "z-link":
			if e.GetType() != agentv1.FileStat_SYMLINK || e.GetLinkTarget() != "a" {
				t.Errorf("z-link listed as %v", e)
			}
		case "out":
			if e.GetType() != agentv1.FileStat_SYMLINK || e.GetLinkTarget() != outside {
				t.Errorf("out listed as %v", e)
			}
		case "c.txt":
			if e.GetType() != agentv1.FileStat_FILE || e.GetSize() != int64(len("content of a/b/c.txt")) || e.GetMode() != 0o644 {
				t.Errorf("c.txt listed as %v", e)
			}
		case "secret":
			t.Errorf("listed %s through a link", e.GetPath())
		}
	}

	// A small limit: that many entries, the shallower first, sorted.
	resp, err = ta.ListDir(ctx(t), &agentv1.ListDirRequest{Path: ".", Depth: 64, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	got := paths(resp)
	if len(got) != 4 || !resp.GetTruncated() || !slices.IsSorted(got) || slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, "/") }) {
		t.Fatalf("limit 4: %q, truncated %v", got, resp.GetTruncated())
	}
	// Exactly as many entries as the limit is not truncated.
	resp, err = ta.ListDir(ctx(t), &agentv1.ListDirRequest{Path: "a/b", Limit: 2})
	if err != nil || len(resp.GetEntries()) != 2 || resp.GetTruncated() {
		t.Fatalf("limit 2 of 2: %v %v", resp, err)
	}

	for _, tc := range []struct {
		name string
		req  *agentv1.ListDirRequest
		code codes.Code
	}{
		{"a file", &agentv1.ListDirRequest{Path: "a.txt"}, codes.FailedPrecondition},
		{"missing", &agentv1.ListDirRequest{Path: "missing"}, codes.NotFound},
		{"depth past 64", &agentv1.ListDirRequest{Path: ".", Depth: 65}, codes.InvalidArgument},
		{"negative depth", &agentv1.ListDirRequest{Path: ".", Depth: -1}, codes.InvalidArgument},
		{"negative limit", &agentv1.ListDirRequest{Path: ".", Limit: -1}, codes.InvalidArgument},
		{"a link outside", &agentv1.ListDirRequest{Path: "out"}, codes.InvalidArgument},
		{"outside", &agentv1.ListDirRequest{Path: outside}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ta.ListDir(ctx(t), tc.req)
			wantCode(t, err, tc.code)
		})
	}
}

// Sorted by path, as strings: "a-c" and "a.txt" come before "a/b".
func TestListDirSortsByPath(t *testing.T) {
	ta := startAgent(t, nil)
	makeTree(t, ta.workspace, "a/b", "a.txt", "a-c", "a0", "A", "a/.h")
	resp, err := ta.ListDir(ctx(t), &agentv1.ListDirRequest{Path: ".", Depth: 2})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range resp.GetEntries() {
		got = append(got, e.GetPath())
	}
	if !slices.IsSorted(got) || len(got) != 7 {
		t.Fatalf("%q", got)
	}
}

func TestListDirTruncatesAtTheAgentLimit(t *testing.T) {
	ta := startAgent(t, nil)
	dir := filepath.Join(ta.workspace, "many")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 10001 {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("f%05d", i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	for _, limit := range []int32{0, 20000} {
		resp, err := ta.ListDir(ctx(t), &agentv1.ListDirRequest{Path: "many", Limit: limit})
		if err != nil || len(resp.GetEntries()) != 10000 || !resp.GetTruncated() {
			t.Fatalf("limit %d: %d entries, truncated %v, %v", limit, len(resp.GetEntries()), resp.GetTruncated(), err)
		}
	}
}

func TestRemove(t *testing.T) {
	ta, outside := restricted(t)
	makeTree(t, ta.workspace, "file", "empty/", "full/x", "tree/a/b/c", "tree/ro/f", "link -> full", "out -> "+outside)
	if err := os.Chmod(filepath.Join(ta.workspace, "tree/ro"), 0o555); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path      string
		recursive bool
	}{
		{"file", false},
		{"empty", false},
		{"tree", true}, // a read-only directory inside included
		// Links are removed, never followed.
		{"link", true},
		{"out", false},
	} {
		resp, err := ta.Remove(ctx(t), &agentv1.RemoveRequest{Path: tc.path, Recursive: tc.recursive})
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if resp.GetPath() != filepath.Join(ta.workspace, tc.path) {
			t.Errorf("%s: answered %q", tc.path, resp.GetPath())
		}
		if _, err := os.Lstat(filepath.Join(ta.workspace, tc.path)); !os.IsNotExist(err) {
			t.Errorf("%s is still there", tc.path)
		}
	}
	if _, err := os.Stat(filepath.Join(ta.workspace, "full/x")); err != nil {
		t.Fatalf("removing a link removed what it points to: %v", err)
	}
	if _, err := os.Stat(filepath.Join(outside, "secret")); err != nil {
		t.Fatalf("removing a link outside removed its target: %v", err)
	}

	ws := ta.workspace
	for _, tc := range []struct {
		name string
		req  *agentv1.RemoveRequest
		code codes.Code
	}{
		{"not empty", &agentv1.RemoveRequest{Path: "full"}, codes.FailedPrecondition},
		{"missing", &agentv1.RemoveRequest{Path: "missing"}, codes.NotFound},
		{"missing, recursive", &agentv1.RemoveRequest{Path: "missing", Recursive: true}, codes.NotFound},
		{"the workspace", &agentv1.RemoveRequest{Path: ".", Recursive: true}, codes.FailedPrecondition},
		{"the workspace by name", &agentv1.RemoveRequest{Path: ws, Recursive: true}, codes.FailedPrecondition},
		{"outside", &agentv1.RemoveRequest{Path: outside, Recursive: true}, codes.InvalidArgument},
		{"dot-dot", &agentv1.RemoveRequest{Path: "full/../full"}, codes.InvalidArgument},
		{"through a link outside", &agentv1.RemoveRequest{Path: "out2/secret"}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Symlink(outside, filepath.Join(ws, "out2")); err != nil && !os.IsExist(err) {
				t.Fatal(err)
			}
			_, err := ta.Remove(ctx(t), tc.req)
			wantCode(t, err, tc.code)
			if _, err := os.Stat(filepath.Join(ws, "full/x")); err != nil {
				t.Fatalf("full/x is gone: %v", err)
			}
			if _, err := os.Stat(filepath.Join(outside, "secret")); err != nil {
				t.Fatalf("the file outside is gone: %v", err)
			}
		})
	}
}

// With the whole filesystem allowed, "/", the workspace and what holds the
// workspace are still never removed, named directly or through a link.
func TestRemoveNeverRemovesTheRootsOrTheWorkspace(t *testing.T) {
	ta := startAgent(t, nil)
	holder := filepath.Dir(ta.workspace)
	link := filepath.Join(t.TempDir(), "ws-parent")
	if err := os.Symlink(holder, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", ".", ta.workspace, holder, filepath.Dir(holder), filepath.Join(link, filepath.Base(ta.workspace))} {
		_, err := ta.Remove(ctx(t), &agentv1.RemoveRequest{Path: p, Recursive: true})
		if err == nil {
			t.Fatalf("Remove(%s) succeeded", p)
		}
		wantCode(t, err, codes.FailedPrecondition)
		if _, err := os.Stat(ta.workspace); err != nil {
			t.Fatalf("after Remove(%s): %v", p, err)
		}
	}
	// The link itself is not the workspace.
	if _, err := ta.Remove(ctx(t), &agentv1.RemoveRequest{Path: link}); err != nil {
		t.Fatal(err)
	}
}

func TestMakeDir(t *testing.T) {
	ta, outside := restricted(t)
	makeTree(t, ta.workspace, "file", "existing/", "dir-link -> existing", "out -> "+outside)
	// The umask must not change the modes asked for.
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	for _, tc := range []struct {
		req  *agentv1.MakeDirRequest
		mode os.FileMode
	}{
		{&agentv1.MakeDirRequest{Path: "plain"}, 0o755},
		{&agentv1.MakeDirRequest{Path: "private", Mode: 0o700}, 0o700},
		{&agentv1.MakeDirRequest{Path: "sticky", Mode: 0o1777}, 0o777 | os.ModeSticky},
		{&agentv1.MakeDirRequest{Path: "a/b/c", Mode: 0o750, Parents: true}, 0o750},
		// An existing directory is fine with parents, and keeps its mode.
		{&agentv1.MakeDirRequest{Path: "existing", Mode: 0o700, Parents: true}, 0o755},
		{&agentv1.MakeDirRequest{Path: ".", Parents: true}, 0o755},
	} {
		st, err := ta.MakeDir(ctx(t), tc.req)
		if err != nil {
			t.Fatalf("%v: %v", tc.req, err)
		}
		path := filepath.Join(ta.workspace, tc.req.GetPath())
		fi, err := os.Lstat(path)
		if err != nil || !fi.IsDir() || fi.Mode()&(os.ModePerm|os.ModeSticky) != tc.mode {
			t.Fatalf("%s: %v %v, want a directory %v", tc.req.GetPath(), fi.Mode(), err, tc.mode)
		}
		if st.GetPath() != path || st.GetType() != agentv1.FileStat_DIRECTORY {
			t.Fatalf("%s: answered %v", tc.req.GetPath(), st)
		}
	}
	for _, tc := range []struct {
		name string
		req  *agentv1.MakeDirRequest
		code codes.Code
	}{
		{"exists", &agentv1.MakeDirRequest{Path: "existing"}, codes.FailedPrecondition},
		{"a file, with parents", &agentv1.MakeDirRequest{Path: "file", Parents: true}, codes.FailedPrecondition},
		{"a link to a directory, with parents", &agentv1.MakeDirRequest{Path: "dir-link", Parents: true}, codes.FailedPrecondition},
		{"missing parent", &agentv1.MakeDirRequest{Path: "no/such"}, codes.NotFound},
		{"mode beyond permissions", &agentv1.MakeDirRequest{Path: "m", Mode: 0o40755}, codes.InvalidArgument},
		{"through a link outside", &agentv1.MakeDirRequest{Path: "out/x", Parents: true}, codes.InvalidArgument},
		{"outside", &agentv1.MakeDirRequest{Path: filepath.Join(outside, "x")}, codes.InvalidArgument},
		{"dot-dot", &agentv1.MakeDirRequest{Path: "../x"}, codes.InvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ta.MakeDir(ctx(t), tc.req)
			wantCode(t, err, tc.code)
		})
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Fatalf("outside holds %d entries, want only secret", len(entries))
	}
}

// Linux names are bytes, protobuf strings UTF-8: a name that is not is left
// out of a listing rather than failing it, and a link target is described
// with replacement characters.
func TestListDirAndStatWithNamesThatAreNotUTF8(t *testing.T) {
	ta := startAgent(t, nil)
	makeTree(t, ta.workspace, "good", "bad\xff", "link -> target\xfe")
	resp, err := ta.ListDir(ctx(t), &agentv1.ListDirRequest{Path: "."})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range resp.GetEntries() {
		names = append(names, filepath.Base(e.GetPath()))
		if e.GetType() == agentv1.FileStat_SYMLINK && e.GetLinkTarget() != "target\uFFFD" {
			t.Errorf("link target %q", e.GetLinkTarget())
		}
	}
	if !slices.Equal(names, []string{"good", "link"}) {
		t.Fatalf("listed %q", names)
	}
	st, err := ta.Stat(ctx(t), &agentv1.StatRequest{Path: "link"})
	if err != nil || st.GetLinkTarget() != "target\uFFFD" {
		t.Fatalf("Stat: %v %v", st, err)
	}
}

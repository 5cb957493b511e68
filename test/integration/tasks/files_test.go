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

package tasks

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/generated/clientset/versioned"
	"github.com/arl-infra/arl/test/integration/framework"
)

// files is a request to sandboxes/{sandbox}/files with the given query.
func (e *env) files(verb, sandbox string, params ...string) *rest.Request {
	req := e.rest.Verb(verb).Namespace(ns).Resource("sandboxes").Name(sandbox).SubResource("files")
	for i := 0; i+1 < len(params); i += 2 {
		req = req.Param(params[i], params[i+1])
	}
	return req
}

func (e *env) fileList(req *rest.Request) (*arlv1alpha1.SandboxFileList, error) {
	list := &arlv1alpha1.SandboxFileList{}
	err := req.Do(e.ctx).Into(list)
	return list, err
}

// shell runs a script in the sandbox through a Task and returns its stdout.
func (e *env) shell(sandbox, script string) string {
	e.t.Helper()
	task := e.exec(newTask("sh-"+strconv.FormatInt(time.Now().UnixNano(), 36), sandbox, bash("sh", script)))
	mustState(e.t, task, arlv1alpha1.TaskSucceeded)
	return task.Status.Stdout
}

// TestSandboxFiles: each operation of sandboxes/{name}/files, and each
// refusal answered as the API error a Kubernetes client expects.
func TestSandboxFiles(t *testing.T) {
	e := newEnv(t, 1, "fs")

	written, err := e.fileList(e.files("PUT", "fs", "path", "dir/sub/run.sh", "mode", "493", "parents", "true").Body([]byte("#!/bin/sh\necho ran\n")))
	if err != nil || len(written.Items) != 1 || written.Items[0].Mode != 0o755 || written.Items[0].Size != 19 {
		t.Fatalf("PUT with mode 0755 and parents: %+v %v", written, err)
	}
	if out := e.shell("fs", "dir/sub/run.sh; stat -c %a dir/sub/run.sh"); out != "ran\n755\n" {
		t.Errorf("the written script run in the sandbox: %q, want ran and 755", out)
	}
	// Overwriting keeps the mode, as UpdateFiles does.
	if _, err := e.fileList(e.files("PUT", "fs", "path", "dir/sub/run.sh").Body([]byte("#!/bin/sh\necho again\n"))); err != nil {
		t.Fatal(err)
	}
	content, err := e.files("GET", "fs", "path", "dir/sub/run.sh").DoRaw(e.ctx)
	if err != nil || string(content) != "#!/bin/sh\necho again\n" {
		t.Errorf("GET of the overwritten file: %q %v", content, err)
	}
	part, err := e.files("GET", "fs", "path", "dir/sub/run.sh", "offset", "10", "length", "4").DoRaw(e.ctx)
	if err != nil || string(part) != "echo" {
		t.Errorf("GET of bytes 10-13: %q %v, want echo", part, err)
	}
	stat, err := e.fileList(e.files("GET", "fs", "path", "dir/sub/run.sh", "view", "stat"))
	if err != nil || len(stat.Items) != 1 || stat.Items[0].Type != "File" || stat.Items[0].Mode != 0o755 || !strings.HasSuffix(stat.Items[0].Path, "/dir/sub/run.sh") || stat.Items[0].ModTime == nil {
		t.Errorf("stat: %+v %v", stat, err)
	}

	if _, err := e.fileList(e.files("POST", "fs", "path", "dir/empty")); err != nil {
		t.Fatalf("mkdir: %v", err)
	}
	e.shell("fs", "ln -s sub/run.sh dir/link")
	list, err := e.fileList(e.files("GET", "fs", "path", "dir", "view", "list", "depth", "2"))
	var got []string
	for _, f := range list.Items {
		got = append(got, f.Path[strings.LastIndex(f.Path, "/dir/")+1:]+":"+f.Type+":"+f.LinkTarget)
	}
	want := "dir/empty:Directory: dir/link:Symlink:sub/run.sh dir/sub:Directory: dir/sub/run.sh:File:"
	if err != nil || strings.Join(got, " ") != want {
		t.Errorf("list to depth 2: %v %v\nwant %s", got, err, want)
	}

	for _, tc := range []struct {
		what string
		req  *rest.Request
		want func(error) bool
		says string
	}{
		{"a missing file", e.files("GET", "fs", "path", "nope"), apierrors.IsNotFound, "nope"},
		{"an unknown Sandbox", e.files("GET", "missing", "path", "x"), apierrors.IsNotFound, "missing"},
		{"a path with ..", e.files("GET", "fs", "path", "dir/../../etc/passwd"), apierrors.IsInvalid, "path"},
		{"no path", e.files("GET", "fs"), apierrors.IsInvalid, "path"},
		{"an unknown view", e.files("GET", "fs", "path", "dir", "view", "tree"), apierrors.IsInvalid, "view"},
		{"a mode past 07777", e.files("PUT", "fs", "path", "x", "mode", "8192").Body([]byte("x")), apierrors.IsInvalid, "mode"},
		{"a recursive GET", e.files("GET", "fs", "path", "dir", "recursive", "true"), apierrors.IsInvalid, "recursive"},
		{"the content of a directory", e.files("GET", "fs", "path", "dir"), apierrors.IsConflict, "not a regular file"},
		{"a list of a file", e.files("GET", "fs", "path", "dir/sub/run.sh", "view", "list"), apierrors.IsConflict, "run.sh"},
		{"mkdir of an existing directory", e.files("POST", "fs", "path", "dir/empty"), apierrors.IsConflict, "exists"},
		{"removing a non-empty directory", e.files("DELETE", "fs", "path", "dir"), apierrors.IsConflict, "dir"},
		{"removing the workspace", e.files("DELETE", "fs", "path", ".", "recursive", "true"), apierrors.IsConflict, "workspace"},
		{"writing into a missing directory", e.files("PUT", "fs", "path", "nodir/x").Body([]byte("x")), apierrors.IsNotFound, "nodir"},
	} {
		err := tc.req.Do(e.ctx).Error()
		if !tc.want(err) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want an error saying %q", tc.what, err, tc.says)
		}
	}

	if err := e.files("DELETE", "fs", "path", "dir", "recursive", "true").Do(e.ctx).Error(); err != nil {
		t.Fatalf("recursive DELETE: %v", err)
	}
	if out := e.shell("fs", "ls -A"); out != "" {
		t.Errorf("the workspace after removing dir: %q, want empty", out)
	}
}

// randomStream is size pseudo-random bytes, generated as they are read:
// neither the test nor the server ever holds the whole file.
type randomStream struct {
	rng  *rand.ChaCha8
	left int64
}

func (r *randomStream) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, _ := r.rng.Read(p)
	r.left -= int64(n)
	return n, nil
}

// TestSandboxFilesLarge: a 200 MiB file goes up and comes back down with
// equal checksums, streamed: the server's RSS moves by less than 64 MiB.
func TestSandboxFilesLarge(t *testing.T) {
	const size = 200 << 20
	const rssBound = 64 << 20
	e := newEnv(t, 1, "big")
	pid := e.server.PID()
	before, err := framework.RSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	peak := peakRSS(e.ctx, pid, stop)

	up := sha256.New()
	body := io.TeeReader(&randomStream{rng: rand.NewChaCha8([32]byte{7}), left: size}, up)
	written, err := e.fileList(e.files("PUT", "big", "path", "blob").Body(body))
	if err != nil || len(written.Items) != 1 || written.Items[0].Size != size {
		t.Fatalf("PUT of 200 MiB: %+v %v", written, err)
	}
	stream, err := e.files("GET", "big", "path", "blob").Stream(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	down := sha256.New()
	n, err := io.Copy(down, stream)
	stream.Close()
	close(stop)
	if err != nil || n != size || !bytes.Equal(up.Sum(nil), down.Sum(nil)) {
		t.Fatalf("GET of 200 MiB: %d bytes, %v; checksums %x up, %x down", n, err, up.Sum(nil), down.Sum(nil))
	}
	if high := <-peak; high-before > rssBound {
		t.Errorf("the server's RSS grew by %d MiB (from %d to %d MiB) for a 200 MiB upload and download; want < %d MiB",
			(high-before)>>20, before>>20, high>>20, rssBound>>20)
	} else {
		t.Logf("server RSS %d MiB before, peak %d MiB", before>>20, high>>20)
	}
	// The sandbox has the same bytes.
	if out := e.shell("big", "sha256sum blob | cut -d' ' -f1"); strings.TrimSpace(out) != hex.EncodeToString(up.Sum(nil)) {
		t.Errorf("sha256sum in the sandbox: %q, want %x", out, up.Sum(nil))
	}
}

// tarOf builds a tar from entries; a name ending in / is a directory, a
// link target after -> a symbolic link.
func tarOf(t *testing.T, entries ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, entry := range entries {
		name, content, _ := strings.Cut(entry, "=")
		hdr := &tar.Header{Name: name, Mode: 0o644, ModTime: time.Unix(1700000000, 0)}
		switch {
		case strings.HasSuffix(name, "/"):
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
		case strings.Contains(name, "->"):
			hdr.Name, hdr.Linkname, _ = strings.Cut(name, "->")
			hdr.Typeflag = tar.TypeSymlink
		case strings.HasPrefix(name, "fifo:"):
			hdr.Name, hdr.Typeflag = strings.TrimPrefix(name, "fifo:"), tar.TypeFifo
		default:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(content))
			if strings.HasSuffix(name, ".sh") {
				hdr.Mode = 0o755
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarListing lists a tar's entries as name:type:mode:content-or-target.
func tarListing(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading the tar: %v", err)
		}
		content, _ := io.ReadAll(tr)
		out = append(out, hdr.Name+":"+string(hdr.Typeflag)+":"+strconv.FormatInt(hdr.Mode&0o7777, 8)+":"+string(content)+hdr.Linkname)
	}
}

// TestSandboxArchive: a tree goes in as a tar and comes back out the same;
// archives that reach outside the target are refused and write nothing
// outside it.
func TestSandboxArchive(t *testing.T) {
	e := newEnv(t, 1, "ar")
	archive := func(verb string, params ...string) *rest.Request {
		req := e.rest.Verb(verb).Namespace(ns).Resource("sandboxes").Name("ar").SubResource("archive")
		for i := 0; i+1 < len(params); i += 2 {
			req = req.Param(params[i], params[i+1])
		}
		return req
	}
	in := tarOf(t, "src/", "src/main.py=print('hi')\n", "src/run.sh=#!/bin/sh\n", "src/empty/", "link->src/main.py")
	if err := archive("PUT", "path", "dst").Body(in).Do(e.ctx).Error(); err != nil {
		t.Fatalf("PUT of a tar: %v", err)
	}
	if out := e.shell("ar", "cd dst && find . | sort && stat -c %a src/run.sh && readlink link"); out != ".\n./link\n./src\n./src/empty\n./src/main.py\n./src/run.sh\n755\nsrc/main.py\n" {
		t.Errorf("the tree in the sandbox:\n%s", out)
	}
	stream, err := archive("GET", "path", "dst").Stream(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tarListing(t, stream), " ")
	stream.Close()
	want := "link:2:777:src/main.py src/:5:755: src/empty/:5:755: src/main.py:0:644:print('hi')\n src/run.sh:0:755:#!/bin/sh\n"
	if got != want {
		t.Errorf("GET of the tree:\n got %s\nwant %s", got, want)
	}
	stream, err = archive("GET", "path", "dst/src/main.py").Stream(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tarListing(t, stream), " "); got != "main.py:0:644:print('hi')\n" {
		t.Errorf("GET of one file: %s", got)
	}
	stream.Close()

	e.shell("ar", "mkdir -p outside target && ln -s ../outside target/escape")
	for _, tc := range []struct {
		what string
		tar  []byte
	}{
		{"a .. entry", tarOf(t, "../outside/x=pwned")},
		{"an absolute entry", tarOf(t, "/tmp/arl-pwned=pwned")},
		{"a symlink then a file through it", tarOf(t, "a->../outside", "a/x=pwned")},
		{"a file through a symlink already there", tarOf(t, "escape/x=pwned")},
		{"a FIFO", tarOf(t, "fifo:pipe")},
	} {
		err := archive("PUT", "path", "target").Body(tc.tar).Do(e.ctx).Error()
		if !apierrors.IsInvalid(err) {
			t.Errorf("%s: %v, want 422", tc.what, err)
		}
	}
	if out := e.shell("ar", "ls -A outside; ls /tmp/arl-pwned 2>&1 >/dev/null | wc -l"); out != "1\n" {
		t.Errorf("after hostile archives, outside/ holds (and /tmp/arl-pwned):\n%s", out)
	}
	if err := archive("PUT", "path", "dst").Body([]byte("not a tar at all, just bytes of some length......")).Do(e.ctx).Error(); !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
		t.Errorf("PUT of garbage: %v, want 400 or 422", err)
	}
}

// plainExec runs a command through sandboxes/{name}/exec without an
// upgrade and parses its NDJSON answer.
func plainExec(ctx context.Context, c rest.Interface, sandbox string, stdin []byte, argv ...string) (stdout, stderr string, code int32, err error) {
	req := c.Post().Namespace(ns).Resource("sandboxes").Name(sandbox).SubResource("exec").
		Param("stdout", "true").Param("stderr", "true")
	for _, a := range argv {
		req = req.Param("command", a)
	}
	if stdin != nil {
		req = req.Param("stdin", "true").Body(stdin)
	}
	stream, err := req.Stream(ctx)
	if err != nil {
		return "", "", -1, err
	}
	defer stream.Close()
	var out, errOut strings.Builder
	dec := json.NewDecoder(stream)
	for {
		var ev struct {
			Stdout   []byte         `json:"stdout"`
			Stderr   []byte         `json:"stderr"`
			ExitCode *int32         `json:"exitCode"`
			Error    *metav1.Status `json:"error"`
		}
		if err := dec.Decode(&ev); err != nil {
			return out.String(), errOut.String(), -1, err
		}
		out.Write(ev.Stdout)
		errOut.Write(ev.Stderr)
		if ev.Error != nil {
			return out.String(), errOut.String(), -1, &apierrors.StatusError{ErrStatus: *ev.Error}
		}
		if ev.ExitCode != nil {
			return out.String(), errOut.String(), *ev.ExitCode, nil
		}
	}
}

// unthrottled is a REST client of ARL without client-go's default rate
// limit (5/s), which would pace a test's concurrent calls.
func (e *env) unthrottled() rest.Interface {
	e.t.Helper()
	cfg := e.server.RESTConfig()
	cfg.QPS, cfg.Burst = -1, 0
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return cs.ArlV1alpha1().RESTClient()
}

// TestSandboxExecPlain: sandboxes/exec without an upgrade is one request
// and a streamed answer: output, exit code, stdin from the body; 200 at
// once each get their own output.
func TestSandboxExecPlain(t *testing.T) {
	e := newEnv(t, 1, "px")
	c := e.unthrottled()
	stdout, stderr, code, err := plainExec(e.ctx, c, "px", nil, "sh", "-c", "echo out; echo err >&2; exit 7")
	if err != nil || stdout != "out\n" || stderr != "err\n" || code != 7 {
		t.Errorf("exit 7: %q %q %d %v", stdout, stderr, code, err)
	}
	stdout, _, code, err = plainExec(e.ctx, c, "px", bytes.Repeat([]byte("x"), 1<<20), "wc", "-c")
	if err != nil || strings.TrimSpace(stdout) != "1048576" || code != 0 {
		t.Errorf("stdin of 1 MiB: %q %d %v", stdout, code, err)
	}
	_, stderr, code, err = plainExec(e.ctx, c, "px", nil, "no-such-program-here")
	if err != nil || code != 127 || !strings.Contains(stderr, "no-such-program-here") {
		t.Errorf("a program that does not exist: %q %d %v, want 127 and why on stderr", stderr, code, err)
	}
	err = e.rest.Post().Namespace(ns).Resource("sandboxes").Name("px").SubResource("exec").
		Param("stdout", "true").Param("tty", "true").Param("command", "sh").Do(e.ctx).Error()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "tty") {
		t.Errorf("a tty without a WebSocket: %v, want 422 naming tty", err)
	}
	// HTTP/1.1: an HTTP/2 client cannot send an Upgrade header at all.
	http1 := e.server.RESTConfig()
	http1.NextProtos = []string{"http/1.1"}
	spdy, err := versioned.NewForConfig(http1)
	if err != nil {
		t.Fatal(err)
	}
	err = spdy.ArlV1alpha1().RESTClient().Post().Namespace(ns).Resource("sandboxes").Name("px").SubResource("exec").
		Param("stdout", "true").Param("command", "true").SetHeader("Connection", "Upgrade").SetHeader("Upgrade", "SPDY/3.1").Do(e.ctx).Error()
	if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), "WebSocket") {
		t.Errorf("a SPDY upgrade: %v, want 400 naming the WebSocket", err)
	}

	const n = 200
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func(i int) {
			want := "out-" + strconv.Itoa(i) + "\n"
			stdout, stderr, code, err := plainExec(e.ctx, c, "px", nil, "sh", "-c", "echo out-"+strconv.Itoa(i)+"; echo err-"+strconv.Itoa(i)+" >&2")
			if err != nil || stdout != want || stderr != "err-"+strconv.Itoa(i)+"\n" || code != 0 {
				errs <- fmt.Errorf("exec %d: stdout %q, stderr %q, code %d, err %w", i, stdout, stderr, code, err)
				return
			}
			errs <- nil
		}(i)
	}
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	tasks, err := e.arl.Tasks(ns).List(e.ctx, metav1.ListOptions{})
	if err != nil || len(tasks.Items) != 0 {
		t.Errorf("plain exec stored Tasks: %v %v", err, tasks)
	}
}

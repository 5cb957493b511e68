package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlscheme "github.com/arl-infra/arl/pkg/generated/clientset/versioned/scheme"
)

// arlREST is a REST client of arl.infra.io through kube-apiserver, as the
// user of cfgPath.
func arlREST(t *testing.T, cfgPath string) rest.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.GroupVersion = &arlv1alpha1.SchemeGroupVersion
	cfg.APIPath = "/apis"
	cfg.NegotiatedSerializer = arlscheme.Codecs.WithoutConversion()
	client, err := rest.RESTClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func sandboxSub(c rest.Interface, verb, ns, sandbox, sub string, params ...string) *rest.Request {
	req := c.Verb(verb).Namespace(ns).Resource("sandboxes").Name(sandbox).SubResource(sub)
	for i := 0; i+1 < len(params); i += 2 {
		req = req.Param(params[i], params[i+1])
	}
	return req
}

// TestSandboxFilesThroughAggregation: files, archives and plain exec pass
// kube-apiserver's aggregation proxy, streamed; reading and writing files
// are separate verbs in RBAC.
func TestSandboxFilesThroughAggregation(t *testing.T) {
	ns := taskEnv(t, "files", 1, "fs")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin := arlREST(t, kubeconfig)

	// 32 MiB up and down, checksummed, without holding it in the test.
	const size = 32 << 20
	up := sha256.New()
	rng := rand.NewChaCha8([32]byte{3})
	body := io.TeeReader(io.LimitReader(rng, size), up)
	if err := sandboxSub(admin, "PUT", ns, "fs", "files", "path", "data/blob", "parents", "true").Body(body).Do(ctx).Error(); err != nil {
		t.Fatalf("PUT of 32 MiB through the aggregator: %v", err)
	}
	stream, err := sandboxSub(admin, "GET", ns, "fs", "files", "path", "data/blob").Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	down := sha256.New()
	n, err := io.Copy(down, stream)
	stream.Close()
	if err != nil || n != size || !bytes.Equal(up.Sum(nil), down.Sum(nil)) {
		t.Errorf("GET of 32 MiB: %d bytes, %v, checksums differ: %v", n, err, !bytes.Equal(up.Sum(nil), down.Sum(nil)))
	}

	// An archive in and out.
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	for name, content := range map[string]string{"a.txt": "alpha\n", "sub/b.txt": "beta\n"} {
		_ = tw.WriteHeader(&tar.Header{Name: name, Mode: 0o640, Size: int64(len(content)), Typeflag: tar.TypeReg})
		_, _ = tw.Write([]byte(content))
	}
	_ = tw.Close()
	if err := sandboxSub(admin, "PUT", ns, "fs", "archive", "path", "tree").Body(tarBuf.Bytes()).Do(ctx).Error(); err != nil {
		t.Fatalf("PUT of an archive: %v", err)
	}
	stream, err = sandboxSub(admin, "GET", ns, "fs", "archive", "path", "tree").Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	tr := tar.NewReader(stream)
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name)
	}
	stream.Close()
	if got := strings.Join(names, " "); got != "a.txt sub/ sub/b.txt" {
		t.Errorf("the archive back: %q", got)
	}
	list := &arlv1alpha1.SandboxFileList{}
	if err := sandboxSub(admin, "GET", ns, "fs", "files", "path", "tree/sub/b.txt", "view", "stat").Do(ctx).Into(list); err != nil || len(list.Items) != 1 || list.Items[0].Mode != 0o640 {
		t.Errorf("stat of an extracted file: %+v %v", list, err)
	}

	// Plain exec over the HTTP/2 connection, no upgrade.
	stream, err = sandboxSub(admin, "POST", ns, "fs", "exec", "command", "sh", "command", "-c", "command", "cat data/../tree/a.txt; exit 4", "stdout", "true").Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	var code *int32
	dec := json.NewDecoder(stream)
	for code == nil {
		var ev struct {
			Stdout   []byte `json:"stdout"`
			ExitCode *int32 `json:"exitCode"`
		}
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("plain exec answer: %v (so far %q)", err, out.String())
		}
		out.Write(ev.Stdout)
		code = ev.ExitCode
	}
	stream.Close()
	if out.String() != "alpha\n" || *code != 4 {
		t.Errorf("plain exec through the aggregator: %q, exit %d", out.String(), *code)
	}

	// The sandbox's own gauges, through the aggregator: the 32 MiB blob is
	// in its workspace's size.
	gauges, err := sandboxSub(admin, "GET", ns, "fs", "metrics").DoRaw(ctx)
	if err != nil {
		t.Fatalf("sandboxes/fs/metrics: %v", err)
	}
	var workspaceBytes float64
	for _, line := range strings.Split(string(gauges), "\n") {
		if strings.HasPrefix(line, "arl_sandbox_workspace_bytes{") {
			_, _ = fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &workspaceBytes)
		}
	}
	if workspaceBytes < size {
		t.Errorf("the sandbox's workspace_bytes %v, want at least the %d-byte blob:\n%s", workspaceBytes, size, gauges)
	}

	viewer := serviceAccountUser(t, ns, "viewer")
	reader := serviceAccountUser(t, ns, "reader")
	editor := serviceAccountUser(t, ns, "editor")
	kubectl(t, "create", "rolebinding", "viewer", "-n", ns, "--clusterrole=view", "--serviceaccount="+ns+":viewer")
	kubectl(t, "create", "rolebinding", "editor", "-n", ns, "--clusterrole=edit", "--serviceaccount="+ns+":editor")
	kubectl(t, "create", "role", "file-reader", "-n", ns, "--verb=get", "--resource=sandboxes.arl.infra.io/files,sandboxes.arl.infra.io/archive")
	kubectl(t, "create", "rolebinding", "reader", "-n", ns, "--role=file-reader", "--serviceaccount="+ns+":reader")
	for _, tc := range []struct {
		who, cfg             string
		read, write, metrics bool
	}{
		{"viewer", viewer, false, false, true},
		{"file reader", reader, true, false, false},
		{"editor", editor, true, true, true},
	} {
		c := arlREST(t, tc.cfg)
		_, err := sandboxSub(c, "GET", ns, "fs", "metrics").DoRaw(ctx)
		if tc.metrics != (err == nil) || (!tc.metrics && !apierrors.IsForbidden(err)) {
			t.Errorf("%s reads the sandbox's metrics: %v, want allowed %v", tc.who, err, tc.metrics)
		}
		_, err = sandboxSub(c, "GET", ns, "fs", "files", "path", "tree/a.txt").DoRaw(ctx)
		if tc.read != (err == nil) || (!tc.read && !apierrors.IsForbidden(err)) {
			t.Errorf("%s reads a file: %v, want allowed %v", tc.who, err, tc.read)
		}
		err = sandboxSub(c, "PUT", ns, "fs", "files", "path", "tree/a.txt").Body([]byte("changed")).Do(ctx).Error()
		if tc.write != (err == nil) || (!tc.write && !apierrors.IsForbidden(err)) {
			t.Errorf("%s writes a file: %v, want allowed %v", tc.who, err, tc.write)
		}
		err = sandboxSub(c, "DELETE", ns, "fs", "files", "path", "data", "recursive", "true").Do(ctx).Error()
		if tc.write != (err == nil) || (!tc.write && !apierrors.IsForbidden(err)) {
			t.Errorf("%s removes a directory: %v, want allowed %v", tc.who, err, tc.write)
		}
	}
}

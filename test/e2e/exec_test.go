package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlscheme "github.com/arl-infra/arl/pkg/generated/clientset/versioned/scheme"
)

// sandboxExec runs sandboxes/{name}/exec through kube-apiserver's
// aggregation layer with client-go's WebSocket executor (kubectl exec's),
// as the user of cfgPath.
func sandboxExec(t *testing.T, cfgPath, ns, sandbox string, opts *arlv1alpha1.SandboxExecOptions, streams remotecommand.StreamOptions) error {
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
	url := client.Get().Namespace(ns).Resource("sandboxes").Name(sandbox).SubResource("exec").
		VersionedParams(opts, arlscheme.ParameterCodec).URL()
	executor, err := remotecommand.NewWebSocketExecutor(cfg, "GET", url.String())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return executor.StreamWithContext(ctx, streams)
}

func exitCodeOf(err error) int {
	var code exec.CodeExitError
	if errors.As(err, &code) {
		return code.Code
	}
	return -1
}

type sizeQueue chan *remotecommand.TerminalSize

func (q sizeQueue) Next() *remotecommand.TerminalSize { return <-q }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestSandboxExecThroughAggregation: sandboxes/exec passes kube-apiserver's
// aggregation proxy (a WebSocket upgrade): streams apart, exit codes, a
// PTY that sees its resize; a viewer is denied it, an editor is not.
func TestSandboxExecThroughAggregation(t *testing.T) {
	ns := taskEnv(t, "exec", 1, "ws")
	var stdout, stderr bytes.Buffer
	err := sandboxExec(t, kubeconfig, ns, "ws", &arlv1alpha1.SandboxExecOptions{Command: []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, Stdout: true, Stderr: true},
		remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	if exitCodeOf(err) != 7 || stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("exit 7: %v (code %d), stdout %q, stderr %q", err, exitCodeOf(err), stdout.String(), stderr.String())
	}

	stdin, in := io.Pipe()
	sizes := make(sizeQueue, 2)
	sizes <- &remotecommand.TerminalSize{Width: 90, Height: 33}
	var screen lockedBuffer
	done := make(chan error, 1)
	go func() {
		err := sandboxExec(t, kubeconfig, ns, "ws", &arlv1alpha1.SandboxExecOptions{Command: []string{"sh"}, Stdin: true, Stdout: true, TTY: true},
			remotecommand.StreamOptions{Stdin: stdin, Stdout: &screen, Tty: true, TerminalSizeQueue: sizes})
		stdin.CloseWithError(io.ErrClosedPipe)
		done <- err
	}()
	if _, err := io.WriteString(in, "stty size\n"); err != nil {
		t.Fatalf("typing: %v\n%s", err, screen.String())
	}
	waitFor(t, 30*time.Second, "stty size on the terminal", func() (bool, string) {
		return strings.Contains(screen.String(), "33 90"), screen.String()
	})
	if _, err := io.WriteString(in, "exit 3\n"); err != nil {
		t.Fatalf("typing: %v\n%s", err, screen.String())
	}
	select {
	case err := <-done:
		if exitCodeOf(err) != 3 {
			t.Errorf("exit 3 on a terminal: %v\n%s", err, screen.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the terminal session did not end:\n%s", screen.String())
	}

	viewer := serviceAccountUser(t, ns, "viewer")
	editor := serviceAccountUser(t, ns, "editor")
	kubectl(t, "create", "rolebinding", "viewer", "-n", ns, "--clusterrole=view", "--serviceaccount="+ns+":viewer")
	kubectl(t, "create", "rolebinding", "editor", "-n", ns, "--clusterrole=edit", "--serviceaccount="+ns+":editor")
	echo := &arlv1alpha1.SandboxExecOptions{Command: []string{"echo", "hi"}, Stdout: true}
	stdout.Reset()
	if err := sandboxExec(t, viewer, ns, "ws", echo, remotecommand.StreamOptions{Stdout: &stdout}); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("a viewer's exec: %v (stdout %q), want forbidden", err, stdout.String())
	}
	stdout.Reset()
	if err := sandboxExec(t, editor, ns, "ws", echo, remotecommand.StreamOptions{Stdout: &stdout}); err != nil || stdout.String() != "hi\n" {
		t.Errorf("an editor's exec: %v, stdout %q", err, stdout.String())
	}
}

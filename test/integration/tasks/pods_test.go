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
	"context"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"

	"github.com/arl-infra/arl/test/integration/framework"
)

// TestStandalonePodsAndPodsExec: standalone serves its pool pods as
// core/v1 Pods, and pods/exec on them: kubectl get pods and kubectl exec
// work on a local pod name as they would in a cluster, and so does
// client-go's WebSocket executor with a terminal.
func TestStandalonePodsAndPodsExec(t *testing.T) {
	e := newEnv(t, 2, "bound")
	sb, err := e.arl.Sandboxes(ns).Get(e.ctx, "bound", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod := sb.Status.PodName
	kubectl := e.server.Kubectl()

	table := kubectl.MustRun("get", "pods", "-n", ns, "-l", "arl.infra.io/pool=python-pool")
	if !strings.Contains(table, pod) || !strings.Contains(table, "Running") || !strings.Contains(table, "bound") || !strings.Contains(table, "python-pool") {
		t.Errorf("kubectl get pods: the bound pod %s, Running, with its pool and Sandbox:\n%s", pod, table)
	}
	if out := kubectl.MustRun("get", "pod", pod, "-n", ns, "-o", "jsonpath={.status.phase} {.metadata.labels.arl\\.infra\\.io/sandbox}"); out != "Running bound" {
		t.Errorf("kubectl get pod -o jsonpath: %q", out)
	}

	r := kubectl.Run("", "exec", "-n", ns, pod, "--", "sh", "-c", "echo out; echo err >&2; exit 3")
	var exitErr *exec.ExitError
	if !errors.As(r.Err, &exitErr) || exitErr.ExitCode() != 3 || r.Stdout != "out\n" || !strings.Contains(r.Stderr, "err") {
		t.Errorf("kubectl exec ... exit 3: %v, stdout %q, stderr %q", r.Err, r.Stdout, r.Stderr)
	}
	r = kubectl.Run("hello from stdin", "exec", "-i", "-n", ns, pod, "--", "cat")
	if r.Err != nil || r.Stdout != "hello from stdin" {
		t.Errorf("kubectl exec -i ... cat: %v, stdout %q, stderr %q", r.Err, r.Stdout, r.Stderr)
	}
	if r := kubectl.Run("", "exec", "-n", ns, "no-such-pod", "--", "true"); r.Err == nil || !strings.Contains(r.Stderr, "not found") {
		t.Errorf("kubectl exec into an unknown pod: %v %q", r.Err, r.Stderr)
	}
	if r := kubectl.Run("", "exec", "-n", ns, pod, "-c", "sidecar", "--", "true"); r.Err == nil || !strings.Contains(r.Stderr, "executor") {
		t.Errorf("kubectl exec -c sidecar: %v %q, want a refusal naming the executor", r.Err, r.Stderr)
	}

	// A terminal through client-go's WebSocket executor: a resize reaches
	// the PTY, exit 7 ends it with 7.
	kube, err := kubernetes.NewForConfig(e.server.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	url := kube.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Command: []string{"sh"}, Stdin: true, Stdout: true, TTY: true}, scheme.ParameterCodec).URL()
	executor, err := remotecommand.NewWebSocketExecutor(e.server.RESTConfig(), "GET", url.String())
	if err != nil {
		t.Fatal(err)
	}
	stdin, in := io.Pipe()
	term := &terminal{in: in, sizes: make(chan *remotecommand.TerminalSize, 1)}
	term.sizes <- &remotecommand.TerminalSize{Width: 101, Height: 41}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(e.ctx, 2*time.Minute)
		defer cancel()
		err := executor.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: term, Tty: true, TerminalSizeQueue: term})
		stdin.CloseWithError(err)
		done <- err
	}()
	// The resize travels apart from the input: ask until it arrived.
	framework.Eventually(t, 30*time.Second, "the terminal's size", func() bool {
		if _, err := io.WriteString(in, "stty size\n"); err != nil {
			t.Fatalf("typing: %v\n%s", err, term.output())
		}
		time.Sleep(100 * time.Millisecond)
		return strings.Contains(term.output(), "41 101")
	})
	if _, err := io.WriteString(in, "exit 7\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if exitStatus(err) != 7 {
			t.Errorf("pods/exec with a terminal, exit 7: %v (code %d), screen:\n%s", err, exitStatus(err), term.output())
		}
	case <-time.After(time.Minute):
		t.Fatalf("the terminal did not end:\n%s", term.output())
	}

	if _, err := kube.CoreV1().Pods(ns).Get(e.ctx, "no-such-pod", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("GET of an unknown pod: %v, want 404", err)
	}
	pods, err := kube.CoreV1().Pods(ns).List(e.ctx, metav1.ListOptions{LabelSelector: "arl.infra.io/state=allocated"})
	if err != nil || len(pods.Items) != 1 || pods.Items[0].Name != pod {
		t.Errorf("pods by label state=allocated: %v %v, want only %s", err, pods, pod)
	}
}

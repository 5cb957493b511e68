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
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/executor"
	"github.com/arl-infra/arl/test/integration/framework"
)

const (
	// bigOutput is what each Task of TestStalledFollowers prints: 60 MiB
	// of this line, repeated.
	bigOutput = 60 << 20
	bigLine   = "0123456789abcdef\n"
	// rssBound is how far stalled followers may move the server's RSS.
	rssBound = 64 << 20
)

// bigTask prints bigOutput bytes once the file `go` exists in its Sandbox's
// workspace, so that its followers are open before it prints.
func bigTask(name, sandbox string) *arlv1alpha1.Task {
	return newTask(name, sandbox, bash("print",
		fmt.Sprintf(`while [ ! -e go ]; do sleep 0.05; done; yes %s | head -c %d`, strings.TrimSuffix(bigLine, "\n"), bigOutput)))
}

// isBigOutput says whether s is a bigTask's output from offset from on.
func isBigOutput(s string, from int) bool {
	for j := range len(s) {
		if s[j] != bigLine[(from+j)%len(bigLine)] {
			return false
		}
	}
	return true
}

// release lets the bigTasks of a Sandbox print.
func (e *env) release(sandbox string) {
	e.t.Helper()
	sb, err := e.arl.Sandboxes(ns).Get(e.ctx, sandbox, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.server.DataDir, "pods", ns, sb.Status.PodName, "workspace", "go"), nil, 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// openLog opens tasks/NAME/log with the given parameters; the stream is
// open (headers received) when it returns.
func (e *env) openLog(ctx context.Context, name string, params ...string) (io.ReadCloser, error) {
	req := e.rest.Get().Namespace(ns).Resource("tasks").Name(name).SubResource("log")
	for i := 0; i+1 < len(params); i += 2 {
		req = req.Param(params[i], params[i+1])
	}
	return req.Stream(ctx)
}

// peakRSS samples the server's RSS until stop is closed (or ctx ends) and
// returns the highest it saw; 0 if it could read none.
func peakRSS(ctx context.Context, pid int, stop <-chan struct{}) <-chan int64 {
	peak := make(chan int64, 1)
	go func() {
		var high int64
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		for {
			if rss, err := framework.RSS(pid); err == nil {
				high = max(high, rss)
			}
			select {
			case <-stop:
				peak <- high
				return
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
	}()
	return peak
}

// TestStalledFollowers: 8 followers that open tasks/NAME/log?follow=true
// and never read, on 8 Tasks that print 60 MiB each, do not make the
// server keep that output: its RSS moves by less than 64 MiB, the Tasks
// finish as if nobody followed them, and each follower, when it finally
// reads, gets the output it was sent, then a line saying it was cut off.
func TestStalledFollowers(t *testing.T) {
	const n = 8
	var sandboxes []string
	for i := range n {
		sandboxes = append(sandboxes, fmt.Sprintf("sb%d", i))
	}
	e := newEnv(t, 2, sandboxes...)
	pid := e.server.PID()

	// The same load without followers first: the connections to the
	// agents, their gRPC buffers and the heap the Tasks need are then
	// in the baseline, and what follows measures the followers.
	run := func(round string, follow bool) []io.ReadCloser {
		followers := make([]io.ReadCloser, n)
		for i, sb := range sandboxes {
			name := fmt.Sprintf("%s-%d", round, i)
			if _, err := e.arl.Tasks(ns).Create(e.ctx, bigTask(name, sb), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if follow {
				stream, err := e.openLog(e.ctx, name, "follow", "true")
				if err != nil {
					t.Fatal(err)
				}
				followers[i] = stream
			}
		}
		for _, sb := range sandboxes {
			e.release(sb)
		}
		for i := range sandboxes {
			task := e.waitTask(fmt.Sprintf("%s-%d", round, i))
			mustState(t, task, arlv1alpha1.TaskSucceeded)
			if stdout := task.Status.Stdout; !task.Status.StdoutTruncated || stdout == "" || !isBigOutput(stdout, bigOutput-len(stdout)) {
				t.Errorf("%s: stdout truncated %v, %d bytes, not the end of the output: ends %q", task.Name, task.Status.StdoutTruncated, len(stdout), stdout[max(0, len(stdout)-20):])
			}
			os.Remove(filepath.Join(e.server.DataDir, "pods", ns, sandboxPod(e, sandboxes[i]), "workspace", "go"))
		}
		return followers
	}
	stop := make(chan struct{})
	warmPeak := peakRSS(e.ctx, pid, stop)
	run("warm", false)
	close(stop)
	// Their retained output goes with them.
	for i := range n {
		if err := e.arl.Tasks(ns).Delete(e.ctx, fmt.Sprintf("warm-%d", i), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	now, err := framework.RSS(pid)
	if err != nil {
		t.Fatal(err)
	}
	// The baseline is the highest the same load reached without
	// followers: the Go runtime returns freed memory to the system
	// slowly, so the RSS after a load is noise, not a floor.
	warm := <-warmPeak
	if warm == 0 {
		t.Fatalf("no RSS of the server (pid %d) could be read", pid)
	}
	before := max(warm, now)

	stop = make(chan struct{})
	peak := peakRSS(e.ctx, pid, stop)
	followers := run("stalled", true)
	close(stop)
	high := <-peak
	t.Logf("server RSS: %d MiB peak without followers (%d MiB after), %d MiB peak with %d stalled followers",
		before>>20, now>>20, high>>20, n)
	if high-before >= rssBound {
		t.Errorf("%d stalled followers moved the server's RSS by %d MiB (from %d to %d MiB), want less than %d MiB",
			n, (high-before)>>20, before>>20, high>>20, rssBound>>20)
	}

	// The followers read at last: the bytes they were sent, then the
	// notice, then the end.
	for i, stream := range followers {
		got, err := io.ReadAll(stream)
		stream.Close()
		if err != nil {
			t.Errorf("follower %d: %v", i, err)
			continue
		}
		at := bytes.Index(got, []byte(executor.CutNotice))
		if at < 0 {
			t.Errorf("follower %d read %d bytes and no cut-off notice; it ends %q", i, len(got), got[max(0, len(got)-200):])
			continue
		}
		data, notice := got[:at], string(got[at:])
		data = bytes.TrimSuffix(data, []byte("\n")) // the notice's own line
		if !isBigOutput(string(data), 0) {
			t.Errorf("follower %d: what it read before the notice is not the Task's output", i)
		}
		if !strings.Contains(notice, "fell more than") || !strings.HasSuffix(notice, "\n") || strings.Count(notice, "\n") != 1 {
			t.Errorf("follower %d: notice %q", i, notice)
		}
		if i == 0 {
			t.Logf("follower 0 read %d bytes, then %q", len(data), notice)
		}
	}
}

func sandboxPod(e *env, sandbox string) string {
	sb, err := e.arl.Sandboxes(ns).Get(e.ctx, sandbox, metav1.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return sb.Status.PodName
}

// TestLogRaw: ?raw=true serves the exact bytes a Task printed, invalid
// UTF-8 and NUL bytes included, stdout and stderr as produced, also once
// it finished; without it a finished Task's log is its status text. A
// replica that no longer holds the bytes says so (410).
func TestLogRaw(t *testing.T) {
	e := newEnv(t, 1, "sb")
	// Steps run one after another, so their output's order is known.
	done := e.exec(newTask("binary", "sb",
		bash("out", `printf 'a\000b\377\376c\n'`),
		bash("err", `printf 'err\300\n' >&2`),
		bash("more", `printf 'end\200\000'`)))
	mustState(t, done, arlv1alpha1.TaskSucceeded)
	want := "a\x00b\xff\xfec\nerr\xc0\nend\x80\x00"

	raw, err := e.rest.Get().Namespace(ns).Resource("tasks").Name("binary").SubResource("log").Param("raw", "true").DoRaw(e.ctx)
	if err != nil || string(raw) != want {
		t.Errorf("raw log %q %v, want %q", raw, err, want)
	}
	stream, err := e.openLog(e.ctx, "binary", "raw", "true", "follow", "true")
	if err != nil {
		t.Fatal(err)
	}
	followed, err := io.ReadAll(stream)
	stream.Close()
	if err != nil || string(followed) != want {
		t.Errorf("raw log with follow %q %v, want %q", followed, err, want)
	}

	// Without raw: the status text, stdout then stderr, invalid UTF-8
	// replaced by U+FFFD.
	text, err := e.rest.Get().Namespace(ns).Resource("tasks").Name("binary").SubResource("log").DoRaw(e.ctx)
	if err != nil || string(text) != done.Status.Stdout+done.Status.Stderr || !strings.Contains(string(text), "\uFFFD") {
		t.Errorf("log %q %v, want the status text %q", text, err, done.Status.Stdout+done.Status.Stderr)
	}

	// A restarted server no longer holds the bytes.
	e.server.Stop()
	e.server.Start()
	cs := e.server.Clientset()
	_, err = cs.ArlV1alpha1().RESTClient().Get().Namespace(ns).Resource("tasks").Name("binary").SubResource("log").Param("raw", "true").DoRaw(e.ctx)
	if !apierrors.IsGone(err) {
		t.Errorf("raw log after a restart: %v, want 410 Gone", err)
	}
	text, err = cs.ArlV1alpha1().RESTClient().Get().Namespace(ns).Resource("tasks").Name("binary").SubResource("log").DoRaw(e.ctx)
	if err != nil || string(text) != done.Status.Stdout+done.Status.Stderr {
		t.Errorf("log after a restart %q %v", text, err)
	}
}

// TestLogFollowersOfOneTask: many followers of one Task all get its whole
// output when they keep up, and a reader that leaves early does not
// disturb the others.
func TestLogFollowersOfOneTask(t *testing.T) {
	e := newEnv(t, 1, "sb")
	const lines = 20000
	if _, err := e.arl.Tasks(ns).Create(e.ctx, newTask("counter", "sb",
		bash("count", fmt.Sprintf(`while [ ! -e go ]; do sleep 0.05; done; seq %d`, lines))), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		stream, err := e.openLog(e.ctx, "counter", "follow", "true")
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer stream.Close()
			if i%4 == 3 {
				return // leaves at once
			}
			got, err := io.ReadAll(stream)
			if err != nil || string(got) != want.String() {
				t.Errorf("follower %d: %d bytes %v, want %d", i, len(got), err, want.Len())
			}
		}()
	}
	e.release("sb")
	wg.Wait()
	mustState(t, e.waitTask("counter"), arlv1alpha1.TaskSucceeded)
}

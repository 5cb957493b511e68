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
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
	"github.com/arl-infra/arl/test/integration/framework"
)

// TestTimeoutKillsTheProcessGroup: the Task's timeout ends the step and
// every process it started.
func TestTimeoutKillsTheProcessGroup(t *testing.T) {
	e := newEnv(t, 1, "sb")
	task := newTask("slow", "sb", bash("slow", "sleep 300 & echo $! > /workspace/child.pid; sleep 300"))
	task.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Second}
	done := e.exec(task)
	mustState(t, done, arlv1alpha1.TaskFailed)
	if reason(done) != "TimedOut" || !done.Status.Steps[0].TimedOut {
		t.Fatalf("reason %s steps %+v", reason(done), done.Status.Steps)
	}
	check := e.exec(newTask("check", "sb", bash("alive", "kill -0 $(cat /workspace/child.pid) 2>/dev/null && echo alive || echo gone")))
	if check.Status.Stdout != "gone\n" {
		t.Errorf("the timed-out step's child survived: %q", check.Status.Stdout)
	}
}

// TestNoHiddenCap: upstream capped every step at 30 s whatever the Task's
// timeout; a 35 s step within a 2 minute timeout succeeds here.
func TestNoHiddenCap(t *testing.T) {
	if testing.Short() {
		t.Skip("a 35 s step; run without -short")
	}
	e := newEnv(t, 1, "sb")
	task := newTask("long", "sb", bash("long", "sleep 35; echo finished"))
	task.Spec.Timeout = &metav1.Duration{Duration: 2 * time.Minute}
	done := e.exec(task)
	mustState(t, done, arlv1alpha1.TaskSucceeded)
	if done.Status.Stdout != "finished\n" {
		t.Errorf("stdout %q", done.Status.Stdout)
	}
}

// TestRetries: a failing attempt is retried; status counts attempts and
// shows the last attempt's output.
func TestRetries(t *testing.T) {
	e := newEnv(t, 1, "sb")
	task := newTask("flaky", "sb", bash("flaky",
		`n=$(cat /workspace/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /workspace/n; echo "attempt $n"; [ $n -ge 3 ]`))
	task.Spec.Retries = 3
	done := e.exec(task)
	mustState(t, done, arlv1alpha1.TaskSucceeded)
	if done.Status.Attempts != 3 || done.Status.Stdout != "attempt 3\n" {
		t.Errorf("attempts %d stdout %q", done.Status.Attempts, done.Status.Stdout)
	}
	task = newTask("hopeless", "sb", command("fail", "false"))
	task.Spec.Retries = 2
	done = e.exec(task)
	mustState(t, done, arlv1alpha1.TaskFailed)
	if done.Status.Attempts != 3 {
		t.Errorf("attempts %d, want 3 (1 + 2 retries)", done.Status.Attempts)
	}
}

// TestLargeOutputStaysOutOfEtcd: 5 MiB of output does not break the
// status write (upstream looped re-running steps); status keeps the tail
// with a truncation flag, and the log had everything as it ran.
func TestLargeOutputStaysOutOfEtcd(t *testing.T) {
	e := newEnv(t, 1, "sb")
	task := newTask("big", "sb", bash("big", `head -c 5242880 /dev/zero | tr '\0' 'x'; echo; echo END`))
	done := e.exec(task)
	mustState(t, done, arlv1alpha1.TaskSucceeded)
	if !done.Status.StdoutTruncated || !strings.HasSuffix(done.Status.Stdout, "x\nEND\n") || len(done.Status.Stdout) > 1<<20 {
		t.Errorf("truncated %v, %d bytes, ends %q", done.Status.StdoutTruncated, len(done.Status.Stdout), done.Status.Stdout[max(0, len(done.Status.Stdout)-10):])
	}
}

// TestHostileOutputFitsTheStore: about the largest Task spec (1 MiB of FilePatch
// content) whose command prints what JSON escapes six times over ('<' as
// \u003c, control bytes as \u0001) on both streams, in two steps, still
// stores its result: the status is bounded by its encoded size, not only
// by its bytes, so the write stays under etcd's request limit; and a
// result that still does not fit (the largest cap, large annotations) is
// stored without its output rather than never (the Task used to stay
// Running and its tasks/exec hang).
func TestHostileOutputFitsTheStore(t *testing.T) {
	e := newEnv(t, 1, "sb")
	print := `head -c 1048576 /dev/zero | tr '\0' '<'; head -c 1048576 /dev/zero | tr '\0' '\001' >&2`
	task := newTask("hostile", "sb",
		filePatch("content", "/workspace/content", strings.Repeat("x", validation.MaxTotalContentBytes-1024)),
		bash("first", print), bash("second", print+"; echo END"))
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	done, err := e.execCtx(ctx, task)
	if err != nil {
		t.Fatalf("exec: %v\n%s", err, e.server.Logs())
	}
	mustState(t, done, arlv1alpha1.TaskSucceeded)
	if !done.Status.StdoutTruncated || !strings.HasSuffix(done.Status.Stdout, "<END\n") {
		t.Errorf("stdout: truncated %v, ends %q", done.Status.StdoutTruncated, done.Status.Stdout[max(0, len(done.Status.Stdout)-10):])
	}

	// With the largest output cap and 250 KiB of annotations the whole no
	// longer fits one etcd write: the result is stored without its
	// output, and says so.
	e = newEnvWith(t, []string{"--task-output-bytes=196608"}, 1, "sb")
	task = newTask("annotated", "sb",
		filePatch("content", "/workspace/content", strings.Repeat("x", validation.MaxTotalContentBytes-1024)),
		bash("first", print), bash("second", print+"; echo END"))
	task.Annotations = map[string]string{"example.com/notes": strings.Repeat("n", 250<<10)}
	done, err = e.execCtx(ctx, task)
	if err != nil {
		t.Fatalf("exec: %v\n%s", err, e.server.Logs())
	}
	mustState(t, done, arlv1alpha1.TaskSucceeded)
	complete := meta.FindStatusCondition(done.Status.Conditions, arlv1alpha1.TaskConditionComplete)
	if done.Status.Stdout != "" || !done.Status.StdoutTruncated || complete == nil || !strings.Contains(complete.Message, "did not fit in the store") {
		t.Errorf("a result too large for etcd: stdout %d bytes, truncated %v, condition %+v; want it stored without output, saying so",
			len(done.Status.Stdout), done.Status.StdoutTruncated, complete)
	}
}

// TestLogFollow streams output while the Task runs.
func TestLogFollow(t *testing.T) {
	e := newEnv(t, 1, "sb")
	if _, err := e.arl.Tasks(ns).Create(e.ctx, newTask("ticker", "sb", bash("tick", "for i in 1 2 3; do echo tick $i; sleep 1; done; echo oops >&2")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	stream, err := e.rest.Get().Namespace(ns).Resource("tasks").Name("ticker").SubResource("log").Param("follow", "true").Stream(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	first := make([]byte, 7)
	if _, err := io.ReadFull(stream, first); err != nil || string(first) != "tick 1\n" {
		t.Fatalf("first bytes %q %v", first, err)
	}
	// The first line arrived while the Task still runs.
	if task, _ := e.arl.Tasks(ns).Get(e.ctx, "ticker", metav1.GetOptions{}); task.Status.State != arlv1alpha1.TaskRunning {
		t.Errorf("state %s when the first line arrived, want Running", task.Status.State)
	}
	rest, _ := io.ReadAll(stream)
	if got := string(first) + string(rest); got != "tick 1\ntick 2\ntick 3\noops\n" {
		t.Errorf("log %q", got)
	}
	after, err := e.rest.Get().Namespace(ns).Resource("tasks").Name("ticker").SubResource("log").DoRaw(e.ctx)
	if err != nil || string(after) != "tick 1\ntick 2\ntick 3\noops\n" {
		t.Errorf("log after completion %q %v", after, err)
	}
}

// TestOrderAndParallelism: 64 Tasks across 16 Sandboxes. Tasks of one
// Sandbox run one at a time in creation order; different Sandboxes run
// at the same time (upstream ran one Task at a time cluster-wide).
func TestOrderAndParallelism(t *testing.T) {
	const sandboxes, perSandbox = 16, 4
	var names []string
	for i := 0; i < sandboxes; i++ {
		names = append(names, fmt.Sprintf("sb-%d", i))
	}
	e := newEnv(t, sandboxes, names...)
	var wg sync.WaitGroup
	for j := 0; j < perSandbox; j++ {
		for _, sb := range names {
			task := newTask(fmt.Sprintf("%s-t%d", sb, j), sb, bash("run",
				fmt.Sprintf(`echo "start %d $(date +%%s%%N)" >> /workspace/log; sleep 0.3; echo "end %d $(date +%%s%%N)" >> /workspace/log`, j, j)))
			if _, err := e.arl.Tasks(ns).Create(e.ctx, task, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	type span struct{ start, end int64 }
	spans := map[string][]span{}
	var mu sync.Mutex
	for _, sb := range names {
		wg.Add(1)
		go func(sb string) {
			defer wg.Done()
			for j := 0; j < perSandbox; j++ {
				mustState(t, e.waitTask(fmt.Sprintf("%s-t%d", sb, j)), arlv1alpha1.TaskSucceeded)
			}
			log := e.exec(newTask(sb+"-log", sb, command("cat", "cat", "/workspace/log"))).Status.Stdout
			lines := strings.Fields(log)
			var got []span
			for i := 0; i+5 < len(lines); i += 6 {
				s, _ := strconv.ParseInt(lines[i+2], 10, 64)
				end, _ := strconv.ParseInt(lines[i+5], 10, 64)
				if lines[i+1] != lines[i+4] || lines[i+1] != strconv.Itoa(len(got)) {
					t.Errorf("%s ran out of order or interleaved:\n%s", sb, log)
				}
				got = append(got, span{s, end})
			}
			mu.Lock()
			spans[sb] = got
			mu.Unlock()
		}(sb)
	}
	wg.Wait()
	var all []span
	for _, s := range spans {
		all = append(all, s...)
	}
	if len(all) != sandboxes*perSandbox {
		t.Fatalf("%d runs recorded, want %d", len(all), sandboxes*perSandbox)
	}
	// Some Task started before another (of another Sandbox) ended.
	sort.Slice(all, func(i, j int) bool { return all[i].start < all[j].start })
	overlap := false
	for i := 1; i < len(all); i++ {
		if all[i].start < all[i-1].end {
			overlap = true
		}
	}
	if !overlap {
		t.Error("no two Tasks ran at the same time")
	}
}

// TestExecSurvivesClientDisconnect: a client that goes away mid-exec does
// not lose the result, and posting the same Task again awaits it.
func TestExecSurvivesClientDisconnect(t *testing.T) {
	e := newEnv(t, 1, "sb")
	task := newTask("patient", "sb", bash("work", "sleep 3; echo done"))
	ctx, cancel := context.WithTimeout(e.ctx, time.Second)
	defer cancel()
	if _, err := e.execCtx(ctx, task.DeepCopy()); err == nil {
		t.Fatal("the exec call should have been cut by the client")
	}
	again := e.exec(task.DeepCopy())
	mustState(t, again, arlv1alpha1.TaskSucceeded)
	if again.Status.Stdout != "done\n" || again.Status.Attempts != 1 {
		t.Errorf("stdout %q attempts %d", again.Status.Stdout, again.Status.Attempts)
	}
	other := newTask("patient", "sb", command("different", "true"))
	if _, err := e.execCtx(e.ctx, other); !apierrors.IsConflict(err) {
		t.Errorf("exec of a different Task under an existing name: %v, want Conflict", err)
	}
	empty, err := e.rest.Post().Namespace(ns).Resource("tasks").Name("patient").SubResource("exec").DoRaw(e.ctx)
	if err != nil || !strings.Contains(string(empty), `"stdout":"done\n"`) {
		t.Errorf("exec without a body: %v %s", err, empty)
	}
	if _, err := e.rest.Post().Namespace(ns).Resource("tasks").Name("nonexistent").SubResource("exec").DoRaw(e.ctx); !apierrors.IsNotFound(err) {
		t.Errorf("exec of a missing Task: %v, want NotFound", err)
	}
}

// TestRestartMidTaskNeverReRuns: a Task running when the server stops is
// marked Failed (RunnerLost) and its steps are not run again.
func TestRestartMidTaskNeverReRuns(t *testing.T) {
	e := newEnv(t, 1, "sb")
	if _, err := e.arl.Tasks(ns).Create(e.ctx, newTask("interrupted", "sb",
		bash("count", "echo run >> /workspace/runs; sleep 20")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, time.Minute, "the Task started", func() bool {
		task, err := e.arl.Tasks(ns).Get(e.ctx, "interrupted", metav1.GetOptions{})
		return err == nil && task.Status.State == arlv1alpha1.TaskRunning
	})
	// The restart must come after the step's effect, which must not repeat.
	sb, err := e.arl.Sandboxes(ns).Get(e.ctx, "sb", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	runs := filepath.Join(e.server.DataDir, "pods", ns, sb.Status.PodName, "workspace", "runs")
	framework.Eventually(t, time.Minute, "the step's line in "+runs, func() bool {
		data, _ := os.ReadFile(runs)
		return string(data) == "run\n"
	})
	e.server.Stop()
	e.server.Start()
	e.arl = e.server.Clientset().ArlV1alpha1()
	task := e.waitTask("interrupted")
	mustState(t, task, arlv1alpha1.TaskFailed)
	if reason(task) != "RunnerLost" {
		t.Errorf("reason %s, want RunnerLost", reason(task))
	}
	e.rest = e.server.Clientset().ArlV1alpha1().RESTClient()
	after := e.exec(newTask("runs", "sb", command("cat", "cat", "/workspace/runs")))
	if after.Status.Stdout != "run\n" {
		t.Errorf("the interrupted step ran %q", after.Status.Stdout)
	}
}

// TestOneShotSandboxAndTTL: a keepAlive: false Sandbox serves every Task
// created for it while one is Pending or Running, and is deleted when the
// last finishes (the manual's semantics); a Task created after that fails
// with SandboxNotFound, its reason in stderr. A Task with
// ttlSecondsAfterFinished is deleted after it.
func TestOneShotSandboxAndTTL(t *testing.T) {
	e := newEnv(t, 1)
	e.sandbox("once", false)
	// Back to back: the second is queued while the first runs.
	first := newTask("first", "once", bash("slow", "sleep 1; echo one"))
	first.Spec.TTLSecondsAfterFinished = ptr.To[int32](1)
	if _, err := e.arl.Tasks(ns).Create(e.ctx, first, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.arl.Tasks(ns).Create(e.ctx, newTask("second", "once", command("hi", "echo", "two")), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mustState(t, e.waitTask("second"), arlv1alpha1.TaskSucceeded)
	framework.Eventually(t, time.Minute, "the one-shot Sandbox is deleted", func() bool {
		_, err := e.arl.Sandboxes(ns).Get(e.ctx, "once", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	framework.Eventually(t, time.Minute, "the first Task is deleted after its TTL", func() bool {
		_, err := e.arl.Tasks(ns).Get(e.ctx, "first", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if second, err := e.arl.Tasks(ns).Get(e.ctx, "second", metav1.GetOptions{}); err != nil || second.Status.Stdout != "two\n" {
		t.Errorf("second Task: %v, stdout %q", err, second.Status.Stdout)
	}

	late := e.exec(newTask("late", "once", command("hi", "echo", "three")))
	mustState(t, late, arlv1alpha1.TaskFailed)
	if reason(late) != "SandboxNotFound" || !strings.HasPrefix(late.Status.Stderr, "SandboxNotFound: ") {
		t.Errorf("a Task after the one-shot Sandbox went: reason %s, stderr %q", reason(late), late.Status.Stderr)
	}
}

// TestSandboxStates: a Task for a Pending Sandbox waits and then runs; a
// Task for a missing Sandbox fails at once with the reason.
func TestSandboxStates(t *testing.T) {
	e := newEnv(t, 0)
	missing, err := e.arl.Tasks(ns).Create(e.ctx, newTask("orphan", "nobody", command("x", "true")), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if missing.Status.State != arlv1alpha1.TaskFailed || reason(missing) != "SandboxNotFound" {
		t.Errorf("task of a missing sandbox: %s %s", missing.Status.State, reason(missing))
	}
	// The manual's scripts print stderr: it says why.
	if want := `SandboxNotFound: Sandbox "nobody" does not exist in namespace "default"` + "\n"; missing.Status.Stderr != want {
		t.Errorf("stderr of a Task of a missing sandbox: %q, want %q", missing.Status.Stderr, want)
	}
	if _, err := e.arl.Sandboxes(ns).Create(e.ctx, &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: "later"}, Spec: arlv1alpha1.SandboxSpec{PoolRef: "python-pool", KeepAlive: true},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waiting, err := e.arl.Tasks(ns).Create(e.ctx, newTask("patient", "later", command("x", "echo", "ran")), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if waiting.Status.State != arlv1alpha1.TaskPending {
		t.Errorf("task of a Pending sandbox: %s, want Pending", waiting.Status.State)
	}
	done := e.waitTask("patient")
	mustState(t, done, arlv1alpha1.TaskSucceeded)
}

// TestTaskEventVolume: the Events of finished Tasks under each
// --task-events setting, counted: all (one per Task), failures (the
// default: a fleet pays the Event write only for Failed Tasks) and none.
func TestTaskEventVolume(t *testing.T) {
	for _, c := range []struct {
		setting                 string
		wantSucceeded, wantFail int
	}{
		{"", 0, 1},
		{"all", 2, 1},
		{"failures", 0, 1},
		{"none", 0, 0},
	} {
		t.Run("task-events="+c.setting, func(t *testing.T) {
			var args []string
			if c.setting != "" {
				args = []string{"--task-events=" + c.setting}
			}
			e := newEnvWith(t, args, 2, "sb")
			k := e.server.Kubectl()
			mustState(t, e.exec(newTask("fine-1", "sb", command("ok", "true"))), arlv1alpha1.TaskSucceeded)
			mustState(t, e.exec(newTask("fine-2", "sb", command("ok", "true"))), arlv1alpha1.TaskSucceeded)
			mustState(t, e.exec(newTask("broken", "sb", command("fail", "false"))), arlv1alpha1.TaskFailed)
			// One recorder sends Events in order: once a later bind's
			// Bound Event is stored, every Task's Event would be too.
			e.sandbox("later", true)
			framework.Eventually(t, 30*time.Second, "the later bind's Event", func() bool {
				return k.MustRun("get", "events", "--field-selector", "involvedObject.name=later", "-o", "name") != ""
			})
			count := func(selector string) int {
				return len(strings.Fields(k.MustRun("get", "events", "--field-selector", "involvedObject.kind=Task,"+selector, "-o", "name")))
			}
			if got := count("type=Normal"); got != c.wantSucceeded {
				t.Errorf("%d Events of succeeded Tasks, want %d", got, c.wantSucceeded)
			}
			if got := count("type=Warning"); got != c.wantFail {
				t.Errorf("%d Events of failed Tasks, want %d", got, c.wantFail)
			}
		})
	}
}

// TestSandboxEventsFailuresOnly: with --sandbox-events=failures a bind
// writes no Bound Event; the recorder still records (a failed Task's
// Warning, sent after the bind's, arrives).
func TestSandboxEventsFailuresOnly(t *testing.T) {
	e := newEnvWith(t, []string{"--sandbox-events=failures"}, 1, "sb")
	k := e.server.Kubectl()
	mustState(t, e.exec(newTask("broken", "sb", command("fail", "false"))), arlv1alpha1.TaskFailed)
	framework.Eventually(t, 30*time.Second, "the failed Task's Event", func() bool {
		return k.MustRun("get", "events", "--field-selector", "involvedObject.name=broken", "-o", "name") != ""
	})
	if got := k.MustRun("get", "events", "--field-selector", "involvedObject.kind=Sandbox", "-o", "name"); got != "" {
		t.Errorf("the bound Sandbox has Events %q; --sandbox-events=failures records only Warnings", got)
	}
}

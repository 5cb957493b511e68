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

package executor

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/registry/arl/registrytest"
	sandboxstorage "github.com/arl-infra/arl/pkg/registry/arl/sandbox/storage"
	taskstorage "github.com/arl-infra/arl/pkg/registry/arl/task/storage"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// fakeAgent is an AgentService whose commands run until the test ends
// them: each Execute reports its command (the Task's one-word label) and
// waits for finish(label). It records what ran, in order, and how many
// ran at once.
type fakeAgent struct {
	agentv1.UnimplementedAgentServiceServer

	started chan string

	mu          sync.Mutex
	order       []string
	running     int
	maxRunning  int
	finishLabel map[string]chan struct{}
}

func newFakeAgent() *fakeAgent {
	return &fakeAgent{started: make(chan string, 100), finishLabel: map[string]chan struct{}{}}
}

func (a *fakeAgent) finishChan(label string) chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	ch, ok := a.finishLabel[label]
	if !ok {
		ch = make(chan struct{})
		a.finishLabel[label] = ch
	}
	return ch
}

// finish ends the command label (now, or as soon as it starts).
func (a *fakeAgent) finish(label string) { close(a.finishChan(label)) }

func (a *fakeAgent) Execute(req *agentv1.ExecRequest, stream grpc.ServerStreamingServer[agentv1.ExecLog]) error {
	label := req.GetCommand()[0]
	a.mu.Lock()
	a.order = append(a.order, label)
	a.running++
	a.maxRunning = max(a.maxRunning, a.running)
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.running--
		a.mu.Unlock()
	}()
	a.started <- label
	select {
	case <-a.finishChan(label):
	case <-stream.Context().Done():
		return stream.Context().Err()
	}
	if err := stream.Send(&agentv1.ExecLog{Event: &agentv1.ExecLog_Stdout{Stdout: []byte(label + "\n")}}); err != nil {
		return err
	}
	return stream.Send(&agentv1.ExecLog{Event: &agentv1.ExecLog_Exit{Exit: &agentv1.ExecExit{ExitCode: 0}}})
}

func (a *fakeAgent) ran() (order []string, maxRunning int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.order), a.maxRunning
}

// serve serves the agent on a unix socket and returns its path.
func (a *fakeAgent) serve(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "arl-executor-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "agent.sock")
	lis, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	agentv1.RegisterAgentServiceServer(srv, a)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return socket
}

// agentPods is what pool.Agents asks of a pool.Runtime: a Sandbox's pod
// ("pod-" + its name) and where its agent answers (the fake, for all).
type agentPods struct {
	pool.Runtime // nil: pool.Agents calls nothing else
	socket       string
}

func (r agentPods) Get(namespace, name string) (*pool.Pod, bool) {
	return &pool.Pod{Namespace: namespace, Name: name, UID: types.UID("uid-" + name)}, true
}
func (r agentPods) Target(*pool.Pod) client.Target { return client.Target{Address: r.socket} }

// readyBinder binds every new Sandbox to its pod at once.
type readyBinder struct{}

func (readyBinder) Bind(_ context.Context, sandbox *arl.Sandbox) (arl.SandboxStatus, func(), error) {
	pod := "pod-" + sandbox.Name
	return arl.SandboxStatus{Phase: arl.SandboxReady, PodName: pod, PodUID: types.UID("uid-" + pod), WorkDir: "/workspace"}, nil, nil
}
func (readyBinder) Bound(*arl.Sandbox, time.Duration)      {}
func (readyBinder) BindFailed(*arl.Sandbox, time.Duration) {}
func (readyBinder) Release(context.Context, *arl.Sandbox)  {}
func (readyBinder) ReleaseWithDelete(ctx context.Context) (context.Context, func()) {
	return ctx, func() {}
}

// executorHarness is an executor behind real Task and Sandbox storage (an
// embedded etcd), running Tasks on a fake agent, on a fake clock.
type executorHarness struct {
	e         *Executor
	agent     *fakeAgent
	tasks     taskstorage.TaskStorage
	sandboxes sandboxstorage.SandboxStorage
	clock     *testingclock.FakeClock
	stores    *Stores
}

// newExecutorHarness makes an executor on the fake clock; configure
// changes its Config before it is made.
func newExecutorHarness(t *testing.T, maxConcurrent int, configure ...func(*Config)) *executorHarness {
	t.Helper()
	taskOpts, scheme := registrytest.NewRESTOptions(t, "tasks")
	sandboxOpts := taskOpts
	sandboxOpts.StorageConfig = taskOpts.StorageConfig.Config.ForResource(arl.Resource("sandboxes"))
	sandboxOpts.ResourcePrefix = "sandboxes"

	h := &executorHarness{agent: newFakeAgent(), clock: testingclock.NewFakeClock(time.Now())}
	agents := client.NewPool()
	t.Cleanup(agents.Close)
	stores := NewStores()
	cfg := Config{Identity: "replica-a", Stores: stores, Agents: pool.NewAgents(agentPods{socket: h.agent.serve(t)}, agents),
		MaxConcurrent: maxConcurrent, Clock: h.clock}
	for _, c := range configure {
		c(&cfg)
	}
	h.e = New(cfg)
	var err error
	if h.tasks, err = taskstorage.NewStorage(scheme, taskOpts, h.e, nil, nil, taskstorage.CreateChecks{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.tasks.Task.Store.DestroyFunc)
	if h.sandboxes, err = sandboxstorage.NewStorage(scheme, sandboxOpts, readyBinder{}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.sandboxes.Sandbox.Store.DestroyFunc)
	stores.Bind(h.tasks.Task, h.tasks.Status, h.sandboxes.Sandbox, h.sandboxes.Status)
	h.stores = stores
	return h
}

func (h *executorHarness) ctx() context.Context {
	return genericapirequest.WithNamespace(genericapirequest.NewContext(), "ns")
}

func (h *executorHarness) createSandbox(t *testing.T, name string, mutate ...func(*arl.Sandbox)) *arl.Sandbox {
	t.Helper()
	sandbox := &arl.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: arl.SandboxSpec{PoolRef: "p", KeepAlive: true}}
	for _, m := range mutate {
		m(sandbox)
	}
	created, err := h.sandboxes.Sandbox.Create(h.ctx(), sandbox, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created.(*arl.Sandbox)
}

// createTask creates Task name in sandbox; its one step runs the command
// name, which the fake agent reports.
func (h *executorHarness) createTask(t *testing.T, sandbox, name string, mutate ...func(*arl.Task)) *arl.Task {
	t.Helper()
	task := &arl.Task{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: arl.TaskSpec{SandboxRef: sandbox,
		Steps: []arl.TaskStep{{Name: "run", Type: arl.StepCommand, Command: []string{name}}}}}
	for _, m := range mutate {
		m(task)
	}
	created, err := h.tasks.Task.Create(h.ctx(), task, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created.(*arl.Task)
}

func (h *executorHarness) getTask(t *testing.T, name string) (*arl.Task, error) {
	t.Helper()
	obj, err := h.tasks.Task.Get(h.ctx(), name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return obj.(*arl.Task), nil
}

func (h *executorHarness) state(t *testing.T, name string) arl.TaskState {
	t.Helper()
	task, err := h.getTask(t, name)
	if err != nil {
		t.Fatal(err)
	}
	return task.Status.State
}

// nextStarted is the next command the agent starts.
func (h *executorHarness) nextStarted(t *testing.T) string {
	t.Helper()
	select {
	case label := <-h.agent.started:
		return label
	case <-time.After(30 * time.Second):
		t.Fatal("no command started")
		return ""
	}
}

// noneStarted asserts that no further command starts for a while: what
// must not happen is given a fair chance to.
func (h *executorHarness) noneStarted(t *testing.T) {
	t.Helper()
	select {
	case label := <-h.agent.started:
		t.Fatalf("command %s started", label)
	case <-time.After(300 * time.Millisecond):
	}
}

func (h *executorHarness) waitState(t *testing.T, name string, want arl.TaskState) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return h.state(t, name) == want, nil
	})
	if err != nil {
		t.Fatalf("Task %s is %s, want %s", name, h.state(t, name), want)
	}
}

// TestTasksOfOneSandboxRunInOrder: a Sandbox's Tasks run one at a time, in
// the order they were created; the others wait Pending, Queued.
func TestTasksOfOneSandboxRunInOrder(t *testing.T) {
	h := newExecutorHarness(t, 0)
	h.createSandbox(t, "sb")
	labels := []string{"first", "second", "third", "fourth"}
	for _, name := range labels {
		h.createTask(t, "sb", name)
	}
	for i, name := range labels {
		if got := h.nextStarted(t); got != name {
			t.Fatalf("started %s, want %s", got, name)
		}
		h.noneStarted(t)
		for _, later := range labels[i+1:] {
			task, err := h.getTask(t, later)
			if err != nil {
				t.Fatal(err)
			}
			if task.Status.State != arl.TaskPending || task.Status.Conditions[0].Reason != ReasonQueued {
				t.Fatalf("while %s runs, %s is %s (%s), want Pending, Queued", name, later, task.Status.State, task.Status.Conditions[0].Reason)
			}
		}
		h.agent.finish(name)
		h.waitState(t, name, arl.TaskSucceeded)
	}
	if order, maxRunning := h.agent.ran(); !slices.Equal(order, labels) || maxRunning != 1 {
		t.Fatalf("ran %v, %d at once; want %v one at a time", order, maxRunning, labels)
	}
}

// TestSandboxesRunInParallelUpToMaxConcurrent: Tasks of different
// Sandboxes run at once, as many as MaxConcurrent allows on the replica;
// the rest start as slots free up.
func TestSandboxesRunInParallelUpToMaxConcurrent(t *testing.T) {
	for _, tc := range []struct {
		maxConcurrent int
		sandboxes     int
		wantAtOnce    int
	}{
		{maxConcurrent: 0, sandboxes: 4, wantAtOnce: 4}, // the default bound is far away
		{maxConcurrent: 2, sandboxes: 4, wantAtOnce: 2},
		{maxConcurrent: 1, sandboxes: 3, wantAtOnce: 1},
	} {
		t.Run(fmt.Sprintf("max %d, %d sandboxes", tc.maxConcurrent, tc.sandboxes), func(t *testing.T) {
			h := newExecutorHarness(t, tc.maxConcurrent)
			var labels []string
			for i := range tc.sandboxes {
				sandbox, label := fmt.Sprintf("sb-%d", i), fmt.Sprintf("task-%d", i)
				h.createSandbox(t, sandbox)
				h.createTask(t, sandbox, label)
				labels = append(labels, label)
			}
			// Every Task has its own Sandbox: all are Running, some wait
			// for a slot.
			for _, label := range labels {
				if state := h.state(t, label); state != arl.TaskRunning {
					t.Fatalf("Task %s is %s, want Running", label, state)
				}
			}
			var started []string
			for range tc.wantAtOnce {
				started = append(started, h.nextStarted(t))
			}
			h.noneStarted(t)
			for len(started) < len(labels) {
				h.agent.finish(started[len(started)-tc.wantAtOnce])
				started = append(started, h.nextStarted(t))
			}
			for _, label := range started[len(started)-tc.wantAtOnce:] {
				h.agent.finish(label)
			}
			for _, label := range labels {
				h.waitState(t, label, arl.TaskSucceeded)
			}
			if _, maxRunning := h.agent.ran(); maxRunning != tc.wantAtOnce {
				t.Fatalf("%d Tasks ran at once, want %d", maxRunning, tc.wantAtOnce)
			}
		})
	}
}

// TestQueuedTasksFailWithTheirSandbox: when a Sandbox goes, the Tasks
// queued for it fail; the one running is not the queue's to fail.
func TestQueuedTasksFailWithTheirSandbox(t *testing.T) {
	h := newExecutorHarness(t, 0)
	h.createSandbox(t, "sb")
	h.createTask(t, "sb", "running")
	h.createTask(t, "sb", "queued")
	if got := h.nextStarted(t); got != "running" {
		t.Fatalf("started %s first", got)
	}
	h.e.SandboxGone("ns", "sb")
	task, err := h.getTask(t, "queued")
	if err != nil {
		t.Fatal(err)
	}
	if task.Status.State != arl.TaskFailed || task.Status.Conditions[0].Reason != ReasonSandboxNotFound {
		t.Fatalf("queued Task of a deleted Sandbox is %s (%+v), want Failed, SandboxNotFound", task.Status.State, task.Status.Conditions)
	}
	h.agent.finish("running")
	h.waitState(t, "running", arl.TaskSucceeded)
	h.noneStarted(t)
}

// TestFinishedTaskDeletedAfterItsTTL: ttlSecondsAfterFinished counts on
// the executor's clock from the Task's end, for a Task that ran here and
// for one that failed as it was stored (no sweep needed for either).
func TestFinishedTaskDeletedAfterItsTTL(t *testing.T) {
	for _, tc := range []struct {
		name string
		// finish creates the Task "short-lived" with a TTL of 60 s and
		// returns once it is finished.
		finish func(t *testing.T, h *executorHarness, ttl func(*arl.Task))
	}{
		{name: "ran here", finish: func(t *testing.T, h *executorHarness, ttl func(*arl.Task)) {
			h.createSandbox(t, "sb")
			h.createTask(t, "sb", "short-lived", ttl)
			h.nextStarted(t)
			h.agent.finish("short-lived")
			h.waitState(t, "short-lived", arl.TaskSucceeded)
		}},
		{name: "failed at admission", finish: func(t *testing.T, h *executorHarness, ttl func(*arl.Task)) {
			h.createTask(t, "no-such-sandbox", "short-lived", ttl)
			h.waitState(t, "short-lived", arl.TaskFailed)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newExecutorHarness(t, 0)
			// Start's deleters without its ticker, whose sweeps would
			// delete the Task without the timer.
			go h.e.deleteExpired()
			t.Cleanup(h.e.expired.ShutDown)
			tc.finish(t, h, func(task *arl.Task) { task.Spec.TTLSecondsAfterFinished = ptr.To[int32](60) })
			err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
				return h.clock.HasWaiters(), nil
			})
			if err != nil {
				t.Fatal("no TTL timer was set")
			}
			h.clock.Step(59 * time.Second)
			if _, err := h.getTask(t, "short-lived"); err != nil {
				t.Fatalf("Task gone 59s into a TTL of 60s: %v", err)
			}
			h.clock.Step(time.Second)
			err = wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
				_, err := h.getTask(t, "short-lived")
				return apierrors.IsNotFound(err), nil
			})
			if err != nil {
				t.Fatal("Task kept past its TTL")
			}
		})
	}
}

// TestSweepDeletesTasksPastTheirTTL: a finished Task no timer of this
// replica covers (another replica ran it, or this one restarted since) is
// deleted by the periodic sweep once past its TTL and the grace left to
// the timer of the replica that ran it (TestSweepQueuesOnlyTasksPastTheirTTLAndGrace),
// on the executor's clock.
func TestSweepDeletesTasksPastTheirTTL(t *testing.T) {
	h := newExecutorHarness(t, 0)
	// An hour behind the real time: a sweep that read the real clock would
	// take every Task for expired.
	h.clock.SetTime(time.Now().Add(-time.Hour))
	h.storeFinishedElsewhere(t, "expired", 121*time.Second)
	h.storeFinishedElsewhere(t, "recent", 30*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h.e.Start(ctx)
	// One tick, once the ticker is set: the first sweeps.
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		return h.clock.HasWaiters(), nil
	})
	if err != nil {
		t.Fatal("the executor set no ticker")
	}
	h.clock.Step(time.Second)
	err = wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		_, err := h.getTask(t, "expired")
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatal("a Task past its TTL was not swept")
	}
	if _, err := h.getTask(t, "recent"); err != nil {
		t.Fatalf("a Task within its TTL was swept: %v", err)
	}
}

// TestSweepQueuesOnlyTasksPastTheirTTLAndGrace: the sweep leaves a Task
// past its TTL by less than ttlSweepGrace to the timer of the replica that
// ran it, so replicas do not all delete the same Tasks.
func TestSweepQueuesOnlyTasksPastTheirTTLAndGrace(t *testing.T) {
	h := newExecutorHarness(t, 0)
	h.clock.SetTime(time.Now().Add(-time.Hour))
	// A TTL of 60 s and a grace of a minute.
	h.storeFinishedElsewhere(t, "long-expired", 180*time.Second)
	h.storeFinishedElsewhere(t, "expired", 120*time.Second)
	h.storeFinishedElsewhere(t, "within-grace", 119*time.Second)
	h.storeFinishedElsewhere(t, "within-ttl", 59*time.Second)

	h.e.sweepExpired(h.ctx())
	var queued []string
	for h.e.expired.Len() > 0 {
		expired, _ := h.e.expired.Get()
		queued = append(queued, expired.name)
		h.e.expired.Done(expired)
	}
	slices.Sort(queued)
	if diff := cmp.Diff([]string{"expired", "long-expired"}, queued); diff != "" {
		t.Errorf("swept Tasks (-want +got):\n%s", diff)
	}
}

// TestTTLDeletesPaced: a backlog of expired Tasks is deleted at
// TTLDeletesPerSecond on the executor's clock, however many are queued at
// once, so that the deletes leave the CPU and the store to binds; queued
// Tasks already gone cost no wait.
func TestTTLDeletesPaced(t *testing.T) {
	slept := &sleepRecordingClock{}
	h := newExecutorHarness(t, 0, func(c *Config) {
		c.TTLDeletesPerSecond = 4
		slept.FakeClock = c.Clock.(*testingclock.FakeClock)
		c.Clock = slept
	})
	h.clock.SetTime(time.Now().Add(-time.Hour))
	for i := range 5 {
		h.storeFinishedElsewhere(t, fmt.Sprintf("expired-%d", i), 180*time.Second)
	}
	// Tasks another replica deleted since they were queued take no turn.
	gone := func(name string) expiredTask {
		return expiredTask{namespace: "ns", name: name, uid: "deleted-elsewhere"}
	}
	h.e.expired.Add(gone("gone-0"))
	h.e.sweepExpired(h.ctx())
	h.e.expired.Add(gone("gone-1"))
	h.e.expired.Add(gone("gone-2"))
	go h.e.deleteExpired()
	t.Cleanup(h.e.expired.ShutDown)
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		list, err := h.tasks.Task.List(h.ctx(), nil)
		return err == nil && len(list.(*arl.TaskList).Items) == 0, nil
	})
	if err != nil {
		t.Fatal("the expired Tasks were not all deleted")
	}
	// The first delete takes the one token; the other four wait a quarter
	// of a second each.
	if got := slept.total(); got < 990*time.Millisecond || got > 1010*time.Millisecond {
		t.Errorf("5 deletes at 4 a second (and 3 Tasks already gone) waited %s in all, want 1s", got)
	}
}

// sleepRecordingClock is the fake clock, and adds up what its sleepers
// asked for (the fake clock's Sleep steps it).
type sleepRecordingClock struct {
	*testingclock.FakeClock
	mu    sync.Mutex
	slept time.Duration
}

func (c *sleepRecordingClock) Sleep(d time.Duration) {
	c.mu.Lock()
	c.slept += d
	c.mu.Unlock()
	c.FakeClock.Sleep(d)
}

func (c *sleepRecordingClock) total() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// storeFinishedElsewhere stores a Task as another replica would have, with
// a TTL of 60 s, finished ago on the executor's clock.
func (h *executorHarness) storeFinishedElsewhere(t *testing.T, name string, ago time.Duration) {
	t.Helper()
	task := &arl.Task{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: arl.TaskSpec{SandboxRef: "elsewhere",
		TTLSecondsAfterFinished: ptr.To[int32](60), Steps: []arl.TaskStep{{Name: "run", Type: arl.StepCommand, Command: []string{"true"}}}}}
	if _, err := h.tasks.Task.Store.Create(h.ctx(), task, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	done := metav1.NewTime(h.clock.Now().Add(-ago))
	if _, err := h.e.updateStatus(h.ctx(), name, func(t *arl.Task) error {
		t.Status = finishedStatus(t, done, ReasonSucceeded, "done elsewhere")
		t.Status.State = arl.TaskSucceeded
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

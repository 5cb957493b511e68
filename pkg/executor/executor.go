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

// Package executor runs Tasks: it dispatches their steps straight to the
// Sandbox's agent over gRPC from the replica that accepted the Task (no
// controller), one Task per Sandbox at a time in creation order, and
// writes the result once. A Task that starts at once is stored Running by
// its create and written again when it finishes: two writes whatever its
// number of steps.
//
// Tasks start on events: their create, an update of their Sandbox (it
// turned Ready), the end of the Task before them. A tick once a second
// (Start) only catches what those miss, and expires what this replica
// keeps: see Start.
package executor

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/eventvolume"
)

// Config is what the executor needs from the server.
type Config struct {
	// Identity names this replica in the Tasks it runs (status.runner).
	Identity string
	// Stores are the registry's Task and Sandbox stores (see Stores).
	Stores *Stores
	// Agents reaches the agent of a Sandbox's pod.
	Agents Agents
	// Recorder records an Event per finished Task (as TaskEvents says);
	// nil records none.
	Recorder record.EventRecorder
	// TaskEvents says which finished Tasks get an Event (a Failed Task's
	// is a Warning): each is one more write per Task, which a fleet may not
	// want to pay for every success.
	TaskEvents eventvolume.Volume
	// OutputBytes is the tail of stdout, and of stderr, kept in status.
	OutputBytes int
	// LogBytes is the window of a Task's combined output kept in memory
	// while it runs (and for a while after, see retainedLogBytes): what a
	// late tasks/log reader starts from, and how far a follower may fall
	// behind before it is cut off.
	LogBytes int
	// MaxConcurrent bounds the Tasks running at once on this replica.
	MaxConcurrent int
	// TTLDeletesPerSecond paces this replica's deletes of Tasks past their
	// ttlSecondsAfterFinished; 0: DefaultTTLDeletesPerSecond.
	TTLDeletesPerSecond float64
	// Clock tells the time and runs the timers (Task durations and
	// timeouts, TTLs, the periodic sweep); nil: the real clock. Tests step
	// a fake one.
	Clock clock.WithTickerAndDelayedExecution
	// TracerProvider makes the spans of Tasks that no traced request
	// admitted (spec.traceID, or roots); nil: none (tracing.go).
	TracerProvider trace.TracerProvider
}

// Defaults.
const (
	DefaultOutputBytes   = 128 << 10
	DefaultLogBytes      = 1 << 20
	DefaultMaxConcurrent = 1024
	// DefaultTTLDeletesPerSecond is a replica's pace of TTL deletes. On
	// the 2-core test cluster (hack/scale.sh, 3 replicas, 10,000 pods,
	// 2,000 Sandboxes) a backlog of 40,000 expired Tasks deleted as fast
	// as the store took them (138/s) moved bind p99 from 21 to 837 ms, at
	// 20 a replica (38/s) from 44 to 900 ms, and at 10 a replica (18–21/s)
	// not beyond the runs' own spread (60 and 96 ms): the deletes, and the
	// watch events they send every replica and kube-controller-manager,
	// took the CPU the binds needed. (With 10,000 Sandboxes held the
	// binds alone nearly fill the node, and even 24/s moved p99 to 678 ms.)
	// Kubernetes paces its own TTL cleanup the same way, through its
	// controller manager's client QPS.
	DefaultTTLDeletesPerSecond = 10
	// retainedLogBytes bounds the windows of finished Tasks kept for
	// tasks/log?raw=true, across Tasks; each is kept retainedLogTTL at most.
	retainedLogBytes = 64 << 20
	retainedLogTTL   = 5 * time.Minute
	// streamBytes caps what one step may print before the agent drops the rest.
	streamBytes = 64 << 20
)

// Executor runs Tasks on this replica.
type Executor struct {
	cfg   Config
	slots chan struct{}

	// The registry's stores, bound after New (see Stores).
	tasks         TaskStore
	taskStatus    StatusWriter
	sandboxes     SandboxStore
	sandboxStatus StatusWriter

	mu sync.Mutex
	// life is the executor's lifetime, Start's context: the Tasks it
	// runs, the writes of their results and its periodic work run on it,
	// never on the context of the request that created a Task (a client
	// that goes away must not stop its Task). Read it through lifetime().
	life    context.Context
	queues  map[string]*sandboxQueue // sandbox key
	running map[string]*runningTask  // task key

	// retained keeps finished Tasks' output for a while.
	retained *retainedOutputs
	// expired are the Tasks past their TTL to delete (lifecycle.go).
	expired workqueue.TypedInterface[expiredTask]
	// ttlPace paces the deletes of expired Tasks (TTLDeletesPerSecond).
	ttlPace flowcontrol.RateLimiter
}

// sandboxQueue orders one Sandbox's Tasks on this replica.
type sandboxQueue struct {
	busy    bool
	waiting []string // task keys, creation order
	// admitting counts the Tasks Admit queued whose create has not ended
	// (start or undo not called yet).
	admitting int
	// closing is set while a keepAlive: false Sandbox is being deleted
	// (see finishOneShot); Admit waits for it to close.
	closing chan struct{}
	// goneUID is the one-shot Sandbox this replica deleted, at goneAt.
	goneUID types.UID
	goneAt  time.Time
}

// goneKeep is how long the queue of a one-shot Sandbox this replica
// deleted is kept: Admit reads Sandboxes from a cache that may still show
// it Ready for a moment, and goneUID is what turns such a Task away.
const goneKeep = time.Minute

// idle says the queue holds nothing worth keeping at now.
func (q *sandboxQueue) idle(now time.Time) bool {
	return !q.busy && len(q.waiting) == 0 && q.admitting == 0 && q.closing == nil &&
		(q.goneUID == "" || now.Sub(q.goneAt) >= goneKeep)
}

// runningTask is a Task this replica runs or queues.
type runningTask struct {
	// admitted is when this replica took the Task on (its queue wait
	// counts from here).
	admitted time.Time
	// parent is the span of the request that admitted the Task, when it
	// was traced: the Task's spans join its trace.
	parent trace.SpanContext
	cancel context.CancelFunc
	output *output
	done   chan struct{}
	// final is the finished Task as written, set before done closes.
	final *arl.Task
}

// New returns an executor; Start must run before Tasks are admitted.
func New(cfg Config) *Executor {
	if cfg.OutputBytes <= 0 {
		cfg.OutputBytes = DefaultOutputBytes
	}
	if cfg.LogBytes <= 0 {
		cfg.LogBytes = DefaultLogBytes
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.TTLDeletesPerSecond <= 0 {
		cfg.TTLDeletesPerSecond = DefaultTTLDeletesPerSecond
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	e := &Executor{
		cfg:      cfg,
		slots:    make(chan struct{}, cfg.MaxConcurrent),
		life:     context.Background(),
		queues:   map[string]*sandboxQueue{},
		running:  map[string]*runningTask{},
		retained: newRetainedOutputs(retainedLogBytes, retainedLogTTL),
		expired:  workqueue.NewTypedWithConfig(workqueue.TypedQueueConfig[expiredTask]{Name: "arl_expired_tasks"}),
		// A burst of one: a backlog is deleted at the pace, never faster.
		ttlPace: flowcontrol.NewTokenBucketRateLimiterWithClock(float32(cfg.TTLDeletesPerSecond), 1, cfg.Clock),
	}
	if s := cfg.Stores; s != nil {
		// Pointers to the slots Bind fills: calls reach the bound stores.
		e.tasks, e.taskStatus, e.sandboxes, e.sandboxStatus = &s.tasks, &s.taskStatus, &s.sandboxes, &s.sandboxStatus
	}
	return e
}

// Identity is this replica's runner name.
func (e *Executor) Identity() string { return e.cfg.Identity }

// Start ties running Tasks to ctx (the executor's lifetime, see life)
// and runs the periodic work, on a tick once a second of the executor's
// clock. No Task waits for the tick to start; it catches what the events
// miss and expires what this replica keeps:
//   - a queue whose next Task did not start, because its Sandbox could
//     not be read or turned Ready while the queue was busy (Kick found
//     it so), gets another chance, and idle queues are dropped (kickAll);
//   - the windows of finished Tasks kept for tasks/log?raw=true are
//     dropped once past retainedLogTTL (reads check the time themselves:
//     this frees the memory);
//   - every ttlSweepEvery ticks, the finished Tasks past their TTL and
//     ttlSweepGrace (which no replica's timer deleted) are queued for
//     deletion (sweepExpired), as the timers queue theirs; ttlDeleters
//     workers delete them.
func (e *Executor) Start(ctx context.Context) {
	e.mu.Lock()
	e.life = ctx
	e.mu.Unlock()
	go e.releaseWaitersOnStop(ctx)
	for i := 0; i < ttlDeleters; i++ {
		go e.deleteExpired()
	}
	go func() {
		<-ctx.Done()
		e.expired.ShutDown()
	}()
	go func() {
		ticker := e.cfg.Clock.NewTicker(time.Second)
		defer ticker.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case now := <-ticker.C():
				e.kickAll(now)
				e.retained.expire(now)
				if i%ttlSweepEvery == 0 {
					e.sweepExpired(ctx)
				}
			}
		}
	}()
}

// metaNow is the executor's time, for status.
func (e *Executor) metaNow() metav1.Time { return metav1.NewTime(e.cfg.Clock.Now()) }

func taskKey(namespace, name string) string { return namespace + "/" + name }

// Admit decides how a new Task starts, before it is stored: Running at
// once when its Sandbox is Ready and free here, Pending when it must wait,
// Failed when its Sandbox is missing or failed. start hands the stored
// Task over (a Task failed at once is only counted); undo forgets it when
// the store refused it.
func (e *Executor) Admit(ctx context.Context, task *arl.Task) (status arl.TaskStatus, start func(*arl.Task), undo func()) {
	now := e.metaNow()
	sandbox, err := e.getSandbox(ctx, task.Namespace, task.Spec.SandboxRef)
	switch {
	case apierrors.IsNotFound(err):
		return finishedStatus(task, now, ReasonSandboxNotFound, fmt.Sprintf("Sandbox %q does not exist in namespace %q", task.Spec.SandboxRef, task.Namespace)), e.finished, nil
	case err != nil:
		return finishedStatus(task, now, ReasonSandboxNotFound, fmt.Sprintf("reading Sandbox %q: %v", task.Spec.SandboxRef, err)), e.finished, nil
	case sandbox.Status.Phase == arl.SandboxFailed:
		return finishedStatus(task, now, ReasonSandboxFailed, fmt.Sprintf("Sandbox %q failed: %s", sandbox.Name, sandboxReason(sandbox))), e.finished, nil
	}

	// Nothing is tracked until the Task is stored: a create that fails
	// (e.g. the name exists) must not disturb the Task of that name.
	key := taskKey(task.Namespace, task.Name)
	sbKey := taskKey(task.Namespace, sandbox.Name)
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.queue(sbKey)
	switch gone, err := e.awaitOneShot(ctx, q, sandbox.UID); {
	case err != nil:
		return finishedStatus(task, now, ReasonCanceled, fmt.Sprintf("the request ended while Sandbox %q was being deleted: %v", sandbox.Name, err)), e.finished, nil
	case gone:
		return finishedStatus(task, now, ReasonSandboxNotFound, oneShotGoneMessage(sandbox.Name)), e.finished, nil
	}
	if sandbox.Status.Phase == arl.SandboxReady && !q.busy && len(q.waiting) == 0 {
		q.busy = true
		parent := requestParent(ctx)
		return runningStatus(e.cfg.Identity, now, 1), func(created *arl.Task) {
				e.mu.Lock()
				rt := e.track(key)
				rt.parent = parent
				e.mu.Unlock()
				go e.run(created, sandbox, rt)
			}, func() {
				e.release(sbKey)
			}
	}
	reason, message := ReasonQueued, fmt.Sprintf("waiting for earlier Tasks of Sandbox %q", sandbox.Name)
	if sandbox.Status.Phase != arl.SandboxReady {
		reason, message = ReasonWaitingForSandbox, fmt.Sprintf("Sandbox %q is %s", sandbox.Name, sandbox.Status.Phase)
	}
	// Until the create ends, the queue counts the Task: a one-shot
	// Sandbox must not go while it is being stored.
	q.admitting++
	admitted := func() {
		e.mu.Lock()
		q.admitting--
		e.mu.Unlock()
	}
	parent := requestParent(ctx)
	return pendingStatus(e.cfg.Identity, reason, message, now), func(created *arl.Task) {
		e.adopt(created, parent)
		admitted()
	}, admitted
}

// Adopt queues a stored Pending Task this replica must run (after a restart).
func (e *Executor) Adopt(task *arl.Task) { e.adopt(task, trace.SpanContext{}) }

// adopt queues a Pending Task, its spans under parent when that is valid.
func (e *Executor) adopt(task *arl.Task, parent trace.SpanContext) {
	key := taskKey(task.Namespace, task.Name)
	sbKey := taskKey(task.Namespace, task.Spec.SandboxRef)
	e.mu.Lock()
	if _, ok := e.running[key]; ok {
		e.mu.Unlock()
		return
	}
	e.track(key).parent = parent
	q := e.queue(sbKey)
	q.waiting = append(q.waiting, key)
	tasksQueued.Inc()
	sandboxQueueDepth.Observe(float64(len(q.waiting)))
	e.mu.Unlock()
	go e.kick(sbKey)
}

// track registers a Task this replica owns; the caller holds e.mu.
func (e *Executor) track(key string) *runningTask {
	rt := &runningTask{admitted: e.cfg.Clock.Now(), output: newOutput(e.cfg.OutputBytes, e.cfg.LogBytes), done: make(chan struct{}), cancel: func() {}}
	e.running[key] = rt
	return rt
}

// queue returns a Sandbox's queue; the caller holds e.mu.
func (e *Executor) queue(sbKey string) *sandboxQueue {
	q := e.queues[sbKey]
	if q == nil {
		q = &sandboxQueue{}
		e.queues[sbKey] = q
	}
	return q
}

// kickAll gives every queue a chance to start its next Task, and forgets
// idle ones: every Sandbox that ever ran a Task here would hold one
// otherwise. Nothing holds a queue it may lose: whoever keeps one across
// an unlock has it busy, admitting or closing.
func (e *Executor) kickAll(now time.Time) {
	e.mu.Lock()
	var keys []string
	for k, q := range e.queues {
		switch {
		case !q.busy && len(q.waiting) > 0:
			keys = append(keys, k)
		case q.idle(now):
			delete(e.queues, k)
		}
	}
	e.mu.Unlock()
	for _, k := range keys {
		e.kick(k)
	}
}

// kick starts a Sandbox's next queued Task when the Sandbox is Ready and
// free, and fails its queued Tasks when it is gone or failed.
func (e *Executor) kick(sbKey string) {
	e.mu.Lock()
	q := e.queue(sbKey)
	if q.busy || len(q.waiting) == 0 {
		e.mu.Unlock()
		return
	}
	q.busy = true
	e.mu.Unlock()

	namespace, name, err := cache.SplitMetaNamespaceKey(sbKey)
	if err != nil { // keys come from taskKey: not reached
		utilruntime.HandleError(err)
		e.release(sbKey)
		return
	}
	ctx := genericapirequest.WithNamespace(e.lifetime(), namespace)
	sandbox, err := e.getSandbox(ctx, namespace, name)
	var failReason, failMessage string
	switch {
	case apierrors.IsNotFound(err):
		failReason, failMessage = ReasonSandboxNotFound, fmt.Sprintf("Sandbox %q was deleted", name)
	case err != nil:
		e.release(sbKey)
		return
	case sandbox.Status.Phase == arl.SandboxFailed:
		failReason, failMessage = ReasonSandboxFailed, fmt.Sprintf("Sandbox %q failed: %s", name, sandboxReason(sandbox))
	case sandbox.Status.Phase != arl.SandboxReady:
		e.release(sbKey)
		return
	}
	if failReason != "" {
		e.failQueued(sbKey, failReason, failMessage)
		return
	}

	for {
		e.mu.Lock()
		if len(q.waiting) == 0 {
			q.busy = false
			e.mu.Unlock()
			return
		}
		key := q.waiting[0]
		q.waiting = q.waiting[1:]
		tasksQueued.Dec()
		rt := e.running[key]
		e.mu.Unlock()
		if rt == nil {
			continue
		}
		_, taskName, err := cache.SplitMetaNamespaceKey(key)
		if err != nil { // keys come from taskKey: not reached
			utilruntime.HandleError(err)
			e.forget(key)
			continue
		}
		now := e.metaNow()
		started, err := e.updateStatusRetrying(ctx, taskName, func(t *arl.Task) error {
			if t.Status.State != arl.TaskPending {
				return errTaskStateChanged
			}
			t.Status = runningStatus(e.cfg.Identity, now, 1)
			return nil
		})
		if err != nil {
			e.forget(key)
			continue
		}
		go e.run(started, sandbox, rt)
		return
	}
}

// release frees a Sandbox's slot without starting anything.
func (e *Executor) release(sbKey string) {
	e.mu.Lock()
	e.queue(sbKey).busy = false
	e.mu.Unlock()
}

// failQueued fails every Task waiting for a Sandbox that cannot serve.
func (e *Executor) failQueued(sbKey, reason, message string) {
	e.mu.Lock()
	q := e.queue(sbKey)
	waiting := q.waiting
	q.waiting = nil
	tasksQueued.Add(-float64(len(waiting)))
	q.busy = false
	e.mu.Unlock()
	for _, key := range waiting {
		namespace, name, err := cache.SplitMetaNamespaceKey(key)
		if err != nil { // keys come from taskKey: not reached
			utilruntime.HandleError(err)
			e.forget(key)
			continue
		}
		ctx := genericapirequest.WithNamespace(e.lifetime(), namespace)
		now := e.metaNow()
		if task, err := e.updateStatusRetrying(ctx, name, func(t *arl.Task) error {
			if t.Status.State.IsFinished() {
				return errTaskStateChanged
			}
			t.Status = finishedStatus(t, now, reason, message)
			return nil
		}); err == nil {
			e.recordFinished(task)
		}
		e.forget(key)
	}
}

// forget drops a Task's tracking and wakes its waiters.
func (e *Executor) forget(key string) { e.finish(key, nil) }

// finish drops a Task's tracking and hands its waiters the finished Task
// (nil: they read it from the store).
func (e *Executor) finish(key string, final *arl.Task) {
	e.mu.Lock()
	rt := e.running[key]
	delete(e.running, key)
	e.mu.Unlock()
	if rt != nil {
		rt.final = final
		rt.output.finish()
		if final != nil {
			e.retained.add(key, final.UID, rt.output, e.cfg.Clock.Now())
		}
		close(rt.done)
	}
}

// Deleted stops a deleted Task if this replica runs it, and drops what it
// retains of its output.
func (e *Executor) Deleted(namespace, name string) {
	key := taskKey(namespace, name)
	e.mu.Lock()
	rt := e.running[key]
	e.mu.Unlock()
	if rt != nil {
		rt.cancel()
	}
	e.retained.remove(key)
}

// SandboxGone fails the Tasks queued for a deleted Sandbox and stops the
// one running in it.
func (e *Executor) SandboxGone(namespace, name string) {
	sbKey := taskKey(namespace, name)
	e.failQueued(sbKey, ReasonSandboxNotFound, fmt.Sprintf("Sandbox %q was deleted", name))
}

// Kick tells the executor a Sandbox changed (e.g. became Ready).
func (e *Executor) Kick(namespace, name string) { go e.kick(taskKey(namespace, name)) }

// getSandbox reads a Sandbox from the watch cache, and from etcd when the
// cache says it is missing or not Ready (it may lag a Sandbox just bound):
// the common case costs no etcd read on a Task's path.
func (e *Executor) getSandbox(ctx context.Context, namespace, name string) (*arl.Sandbox, error) {
	ctx = genericapirequest.WithNamespace(ctx, namespace)
	if obj, err := e.sandboxes.Get(ctx, name, &metav1.GetOptions{ResourceVersion: "0"}); err == nil {
		if sandbox := obj.(*arl.Sandbox); sandbox.Status.Phase == arl.SandboxReady {
			return sandbox, nil
		}
	}
	obj, err := e.sandboxes.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return obj.(*arl.Sandbox), nil
}

// updateStatus applies mutate to the stored Task's status and writes it;
// the store retries on conflicts with the latest object.
func (e *Executor) updateStatus(ctx context.Context, name string, mutate func(*arl.Task) error) (*arl.Task, error) {
	obj, _, err := e.taskStatus.Update(ctx, name, rest.DefaultUpdatedObjectInfo(nil, func(_ context.Context, _, old runtime.Object) (runtime.Object, error) {
		task := old.(*arl.Task).DeepCopy()
		if err := mutate(task); err != nil {
			return nil, err
		}
		return task, nil
	}), nil, nil, false, &metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	return obj.(*arl.Task), nil
}

// statusWriteBackoff spaces the retries of a Task status write that
// failed: etcd electing a new leader (a member lost) fails writes for a
// few seconds, and a Task whose start or result is never written stays
// Pending or Running for good, with its tasks/exec clients waiting.
var statusWriteBackoff = wait.Backoff{Duration: 50 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 12, Cap: 3 * time.Second}

// updateStatusRetrying is updateStatus, tried again after errors the store
// may recover from, until statusWriteBackoff or ctx runs out.
func (e *Executor) updateStatusRetrying(ctx context.Context, name string, mutate func(*arl.Task) error) (*arl.Task, error) {
	var task *arl.Task
	err := retry.OnError(statusWriteBackoff, func(err error) bool {
		// A write too large fails the same way again.
		if ctx.Err() != nil || apierrors.IsNotFound(err) || errors.Is(err, errTaskStateChanged) || tooLarge(err) {
			return false
		}
		klog.FromContext(ctx).V(2).Info("Writing a Task's status failed; retrying", "task", name, "err", err)
		return true
	}, func() error {
		var err error
		task, err = e.updateStatus(ctx, name, mutate)
		return err
	})
	return task, err
}

// recordFinished counts a finished Task, sets its TTL's timer (finished)
// and records its Event. The Task's traceID, when set, is in the
// message (kubectl describe shows it) and in the Event's annotation
// AnnotationTraceID.
func (e *Executor) recordFinished(task *arl.Task) {
	e.finished(task)
	if e.cfg.Recorder == nil || task == nil {
		return
	}
	eventType := corev1.EventTypeNormal
	if task.Status.State == arl.TaskFailed {
		eventType = corev1.EventTypeWarning
	}
	if !e.cfg.TaskEvents.Records(eventType) {
		return
	}
	ref := &corev1.ObjectReference{Kind: "Task", APIVersion: arlv1alpha1.SchemeGroupVersion.String(),
		Namespace: task.Namespace, Name: task.Name, UID: task.UID}
	reason, message := completeReason(task)
	if task.Spec.TraceID == "" {
		e.cfg.Recorder.Event(ref, eventType, reason, message)
		return
	}
	e.cfg.Recorder.AnnotatedEventf(ref, map[string]string{AnnotationTraceID: task.Spec.TraceID}, eventType, reason,
		"%s (traceID %s)", message, task.Spec.TraceID)
}

// AnnotationTraceID on a Task's Events is the Task's spec.traceID.
const AnnotationTraceID = "arl.infra.io/trace-id"

// taskLogger is the logger of the lines about a Task: its traceID, when
// set, ties them to the caller's trace.
func taskLogger(base klog.Logger, task *arl.Task) klog.Logger {
	logger := base.WithValues("task", klog.KObj(task))
	if task.Spec.TraceID != "" {
		logger = logger.WithValues("traceID", task.Spec.TraceID)
	}
	return logger
}

package e2e

// Load for the chaos tests: steady binds and steady Tasks through
// kube-apiserver's aggregation layer, each operation timed to the
// millisecond, with the retries a client makes. Unlike the other suites
// these use client-go (the generated clientset): a kubectl per operation
// would add its own start-up to every measured gap.

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	clientset "github.com/arl-infra/arl/pkg/generated/clientset/versioned"
)

// opRetryFor is how long a client keeps retrying one bind or Task before
// it counts as failed: past the longest outage a chaos case causes (etcd
// or kube-apiserver back).
const opRetryFor = 90 * time.Second

type clients struct {
	arl  clientset.Interface
	kube kubernetes.Interface
}

func newClients(t *testing.T) clients {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 100, 200
	cfg.Timeout = 30 * time.Second
	arl, err := clientset.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return clients{arl: arl, kube: kube}
}

// op is one bind or Task as its client saw it.
type op struct {
	name     string
	start    time.Time
	end      time.Time // when it succeeded, or was given up
	ok       bool
	attempts int
	lastErr  string
	pod      string // bind: the pod bound
	podUID   string
	// releasing is when its Sandbox's delete was sent: the Sandbox held its
	// pod at least until then (and the server may hand the pod out again
	// before the client hears that the delete is done).
	releasing time.Time
}

// opLog collects the operations of a load.
type opLog struct {
	mu  sync.Mutex
	ops []*op
}

func (l *opLog) add(o *op) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, o)
}

func (l *opLog) snapshot() []op {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]op, len(l.ops))
	for i, o := range l.ops {
		out[i] = *o
	}
	return out
}

// loadReport is what a chaos case records.
type loadReport struct {
	ok, failed int
	// longestGap is the longest time, within [from, to], without an
	// operation succeeding.
	longestGap  time.Duration
	gapStart    time.Time
	failures    []string
	retriedOps  int
	maxAttempts int
}

func (l *opLog) report(from, to time.Time) loadReport {
	var r loadReport
	var done []time.Time
	for _, o := range l.snapshot() {
		if o.attempts > 1 {
			r.retriedOps++
		}
		r.maxAttempts = max(r.maxAttempts, o.attempts)
		if o.ok {
			r.ok++
			done = append(done, o.end)
		} else {
			r.failed++
			r.failures = append(r.failures, fmt.Sprintf("%s: %d attempts, last: %s", o.name, o.attempts, o.lastErr))
		}
	}
	sort.Slice(done, func(i, j int) bool { return done[i].Before(done[j]) })
	prev := from
	for _, d := range append(done, to) {
		if d.Before(from) {
			continue
		}
		if d.After(to) {
			d = to
		}
		if gap := d.Sub(prev); gap > r.longestGap {
			r.longestGap, r.gapStart = gap, prev
		}
		prev = d
		if !d.Before(to) {
			break
		}
	}
	return r
}

func (r loadReport) String() string {
	return fmt.Sprintf("%d succeeded, %d failed, %d retried (at most %d attempts), longest gap without a success %s",
		r.ok, r.failed, r.retriedOps, r.maxAttempts, r.longestGap.Round(10*time.Millisecond))
}

// retryable: the request may not have been carried out, or was refused
// for now; a client asks again.
func retryable(err error) bool {
	return err != nil && !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) && !apierrors.IsBadRequest(err)
}

// chaosPool creates a WarmPool of `idle` pods whose Sandboxes give their
// pod back when deleted (reusePolicy Reset), so a steady load of binds
// needs no new pods.
func chaosPool(t *testing.T, c clients, ns string, idle int32) {
	t.Helper()
	pool := &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: poolName},
		Spec: arlv1alpha1.WarmPoolSpec{
			Replicas:    ptr.To(idle),
			ReusePolicy: arlv1alpha1.ReusePolicyReset,
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				TerminationGracePeriodSeconds: ptr.To[int64](1),
				Containers:                    []corev1.Container{{Name: "executor", Image: testImage, Command: []string{"sleep", "infinity"}}},
			}},
		},
	}
	if _, err := c.arl.ArlV1alpha1().WarmPools(ns).Create(context.Background(), pool, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPool(t, ns, poolName, int(idle), 0)
}

// bind creates a Sandbox and waits until it is Ready, retrying as a
// client does; it records the pod it got.
func bind(ctx context.Context, c clients, ns, name string) *op {
	o := &op{name: name, start: time.Now()}
	sandboxes := c.arl.ArlV1alpha1().Sandboxes(ns)
	deadline := o.start.Add(opRetryFor)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		o.attempts++
		sb, err := sandboxes.Create(ctx, &arlv1alpha1.Sandbox{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       arlv1alpha1.SandboxSpec{PoolRef: poolName, KeepAlive: true},
		}, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// An earlier attempt was carried out after all.
			sb, err = sandboxes.Get(ctx, name, metav1.GetOptions{})
		}
		if err == nil && sb.Status.Phase == arlv1alpha1.SandboxPending {
			// Bound later by the pool manager: wait for it.
			for sb.Status.Phase == arlv1alpha1.SandboxPending && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				var gerr error
				if sb, gerr = sandboxes.Get(ctx, name, metav1.GetOptions{}); gerr != nil {
					err = gerr
					break
				}
			}
		}
		if err == nil && sb.Status.Phase == arlv1alpha1.SandboxReady {
			o.ok, o.end, o.pod, o.podUID = true, time.Now(), sb.Status.PodName, string(sb.Status.PodUID)
			return o
		}
		if err == nil {
			err = fmt.Errorf("phase %s", sb.Status.Phase)
		}
		o.lastErr = err.Error()
		if !retryable(err) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	o.end = time.Now()
	return o
}

// release deletes a bound Sandbox, retrying.
func release(ctx context.Context, c clients, ns string, o *op) {
	o.releasing = time.Now()
	deadline := o.releasing.Add(opRetryFor)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		err := c.arl.ArlV1alpha1().Sandboxes(ns).Delete(ctx, o.name, metav1.DeleteOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// steadyBinds runs `workers` clients, each binding a Sandbox, then
// deleting it, again and again, until ctx ends (an operation under way
// then is finished, not cut: the WaitGroup waits for it).
func steadyBinds(ctx context.Context, c clients, ns string, workers int) (*opLog, *sync.WaitGroup) {
	log := &opLog{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				o := bind(context.WithoutCancel(ctx), c, ns, fmt.Sprintf("load-%d-%d", w, i))
				log.add(o)
				if o.ok {
					release(context.WithoutCancel(ctx), c, ns, o)
				} else {
					time.Sleep(200 * time.Millisecond)
				}
			}
		}(w)
	}
	return log, &wg
}

// doubleBinds lists every pod two Sandboxes held at once.
func doubleBinds(ops []op) []string {
	byPod := map[string][]op{}
	for _, o := range ops {
		if o.ok && o.podUID != "" {
			byPod[o.podUID] = append(byPod[o.podUID], o)
		}
	}
	var out []string
	for _, list := range byPod {
		sort.Slice(list, func(i, j int) bool { return list[i].end.Before(list[j].end) })
		for i := 1; i < len(list); i++ {
			prev := list[i-1]
			// prev held the pod from its bind until its delete was sent at least.
			if prev.releasing.IsZero() || list[i].end.Before(prev.releasing) {
				out = append(out, fmt.Sprintf("pod %s: bound to %s at %s, to %s at %s (its delete sent %s)", prev.pod, prev.name,
					prev.end.Format(time.StampMilli), list[i].name, list[i].end.Format(time.StampMilli), prev.releasing.Format(time.StampMilli)))
			}
		}
	}
	return out
}

// runTask runs a Task through tasks/{name}/exec and waits for its
// result, retrying as a client does: the body again, or, once the Task is
// stored, exec without a body (which awaits the stored Task).
func runTask(ctx context.Context, c clients, ns string, task *arlv1alpha1.Task) (*op, *arlv1alpha1.Task) {
	o := &op{name: task.Name, start: time.Now()}
	task.APIVersion, task.Kind = arlv1alpha1.SchemeGroupVersion.String(), "Task"
	body, _ := json.Marshal(task)
	rc := c.arl.ArlV1alpha1().RESTClient()
	stored := false
	deadline := o.start.Add(opRetryFor)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		o.attempts++
		req := rc.Post().Namespace(ns).Resource("tasks").Name(task.Name).SubResource("exec").SetHeader("Content-Type", "application/json")
		if !stored {
			req = req.Body(body)
		}
		out := &arlv1alpha1.Task{}
		err := req.Do(ctx).Into(out)
		switch {
		case apierrors.IsAlreadyExists(err):
			stored = true
			continue
		case apierrors.IsNotFound(err) && stored:
			stored = false
		case err == nil && (out.Status.State == arlv1alpha1.TaskSucceeded || out.Status.State == arlv1alpha1.TaskFailed):
			o.end, o.ok = time.Now(), out.Status.State == arlv1alpha1.TaskSucceeded
			if !o.ok {
				o.lastErr = fmt.Sprintf("Failed: %s", taskReason(out))
			}
			return o, out
		case err == nil:
			err = fmt.Errorf("answered in state %s", out.Status.State)
		}
		if err != nil {
			o.lastErr = err.Error()
			if strings.Contains(err.Error(), "ask again") {
				stored = true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	o.end = time.Now()
	return o, nil
}

func taskReason(t *arlv1alpha1.Task) string {
	for _, c := range t.Status.Conditions {
		if c.Type == "Complete" {
			return c.Reason + ": " + c.Message
		}
	}
	return ""
}

// steadyTasks runs, in each Sandbox, one Task after another until ctx
// ends; each echoes its name, and its result must say so.
func steadyTasks(ctx context.Context, c clients, ns string, sandboxes []string) (*opLog, *sync.WaitGroup) {
	log := &opLog{}
	var wg sync.WaitGroup
	for _, sb := range sandboxes {
		wg.Add(1)
		go func(sb string) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("%s-task-%d", sb, i)
				task := &arlv1alpha1.Task{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: arlv1alpha1.TaskSpec{SandboxRef: sb,
					Steps: []arlv1alpha1.TaskStep{{Name: "echo", Type: arlv1alpha1.StepCommand, Command: []string{"echo", name}}}}}
				o, done := runTask(context.WithoutCancel(ctx), c, ns, task)
				if o.ok && done.Status.Stdout != name+"\n" {
					o.ok, o.lastErr = false, fmt.Sprintf("stdout %q", done.Status.Stdout)
				}
				log.add(o)
			}
		}(sb)
	}
	return log, &wg
}

// inventory is every ARL object of a namespace: kind/name -> uid, and
// each Task's result.
type inventory map[string]string

func takeInventory(t *testing.T, c clients, ns string) inventory {
	t.Helper()
	ctx := context.Background()
	inv := inventory{}
	pools, err := c.arl.ArlV1alpha1().WarmPools(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing warmpools: %v", err)
	}
	for _, p := range pools.Items {
		inv["warmpool/"+p.Name] = string(p.UID)
	}
	sbs, err := c.arl.ArlV1alpha1().Sandboxes(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing sandboxes: %v", err)
	}
	for _, s := range sbs.Items {
		if !strings.HasPrefix(s.Name, "load-") {
			inv["sandbox/"+s.Name] = fmt.Sprintf("%s pod=%s/%s", s.UID, s.Status.PodName, s.Status.PodUID)
		}
	}
	tasks, err := c.arl.ArlV1alpha1().Tasks(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing tasks: %v", err)
	}
	for _, tk := range tasks.Items {
		if tk.Status.State == arlv1alpha1.TaskSucceeded || tk.Status.State == arlv1alpha1.TaskFailed {
			inv["task/"+tk.Name] = fmt.Sprintf("%s %s exit=%d stdout=%q", tk.UID, tk.Status.State, ptr.Deref(tk.Status.ExitCode, -1), tk.Status.Stdout)
		}
	}
	return inv
}

// lost lists what before had that now lacks or holds otherwise.
func (before inventory) lost(now inventory) []string {
	var out []string
	for k, v := range before {
		if now[k] != v {
			out = append(out, fmt.Sprintf("%s: was %q, now %q", k, v, now[k]))
		}
	}
	sort.Strings(out)
	return out
}

// baseline makes the objects a chaos case must keep: `sandboxes` bound
// Sandboxes, each with a finished Task whose output names it.
func baseline(t *testing.T, c clients, ns string, sandboxes int) inventory {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < sandboxes; i++ {
		name := fmt.Sprintf("kept-%d", i)
		if o := bind(ctx, c, ns, name); !o.ok {
			t.Fatalf("baseline Sandbox %s: %s", name, o.lastErr)
		}
		task := &arlv1alpha1.Task{ObjectMeta: metav1.ObjectMeta{Name: name + "-result"}, Spec: arlv1alpha1.TaskSpec{SandboxRef: name,
			Steps: []arlv1alpha1.TaskStep{{Name: "echo", Type: arlv1alpha1.StepCommand, Command: []string{"echo", "kept " + name}}}}}
		if o, _ := runTask(ctx, c, ns, task); !o.ok {
			t.Fatalf("baseline Task %s: %s", task.Name, o.lastErr)
		}
	}
	return takeInventory(t, c, ns)
}

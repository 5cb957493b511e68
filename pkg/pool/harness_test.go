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

package pool

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/generated/clientset/versioned/fake"
	informers "github.com/arl-infra/arl/pkg/generated/informers/externalversions"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// memRuntime is an in-memory Runtime: pods are records, nothing runs. It
// stands in for Kubernetes so the manager's decisions can be checked
// without a cluster (test/e2e checks them with one). Every write bumps the
// pod's Version and is reported to onChange, as a pod watch would be.
type memRuntime struct {
	clock clock.PassiveClock

	mu   sync.Mutex
	pods map[string]*Pod
	// lagging holds created pods the cache has not shown yet (lagCreates).
	lagging map[string]*Pod
	seq     int
	// createCalls counts Create calls, failed ones too.
	createCalls int
	deleted     []string
	onChange    func(*Pod, bool)

	// lagCreates keeps created pods out of the cache until show.
	lagCreates bool
	// createErr fails every Create.
	createErr error
	// beforeClaim runs as a Claim starts: a test claims the pod from
	// "another replica" there.
	beforeClaim func(*Pod)
	// resizeErr fails every Resize (errors wrapping ErrCannotResize leave
	// the pod as it was); resources holds what Resize applied, by pod key.
	resizeErr error
	resources map[string]corev1.ResourceRequirements
}

var (
	_ Runtime = &memRuntime{}
	_ Resizer = &memRuntime{}
)

func newMemRuntime(clk clock.PassiveClock, pods ...*Pod) *memRuntime {
	r := &memRuntime{clock: clk, pods: map[string]*Pod{}, lagging: map[string]*Pod{}}
	for _, p := range pods {
		r.pods[p.Key()] = p
	}
	return r
}

func (r *memRuntime) Run(ctx context.Context, _ func(*Pod, bool)) error { <-ctx.Done(); return nil }
func (r *memRuntime) HasSynced() bool                                   { return true }
func (r *memRuntime) Get(namespace, name string) (*Pod, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pods[namespace+"/"+name]
	return p, ok
}
func (r *memRuntime) List(namespace, pool string) []*Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Pod
	for _, p := range r.pods {
		if p.Namespace == namespace && p.Pool == pool {
			out = append(out, p)
		}
	}
	return out
}
func (r *memRuntime) ListAll() []*Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Pod
	for _, p := range r.pods {
		out = append(out, p)
	}
	return out
}

// Create makes an idle pod that is not Ready yet (see setReady).
func (r *memRuntime) Create(_ context.Context, pool *arlv1alpha1.WarmPool) (*Pod, error) {
	r.mu.Lock()
	r.createCalls++
	if r.createErr != nil {
		r.mu.Unlock()
		return nil, r.createErr
	}
	r.seq++
	name := fmt.Sprintf("%s-new-%d", pool.Name, r.seq)
	pod := &Pod{Namespace: pool.Namespace, Name: name, UID: types.UID("uid-" + name), Version: "1", Pool: pool.Name,
		State: PodIdle, TemplateHash: r.TemplateHash(pool), Created: r.clock.Now()}
	if r.lagCreates {
		r.lagging[pod.Key()] = pod
		r.mu.Unlock()
		return pod, nil
	}
	r.pods[pod.Key()] = pod
	r.mu.Unlock()
	r.notify(pod, false)
	return pod, nil
}

// Claim and Release write only a pod still at the version read, as the
// Kubernetes runtime's conditional update does.
func (r *memRuntime) Claim(_ context.Context, pod *Pod, sandbox string) (*Pod, error) {
	if r.beforeClaim != nil {
		r.beforeClaim(pod)
	}
	return r.write(pod, func(p *Pod) error {
		if p.State != PodIdle {
			return ErrConflict
		}
		p.State, p.Sandbox, p.ClaimedAt = PodAllocated, sandbox, r.clock.Now()
		return nil
	})
}

func (r *memRuntime) Release(_ context.Context, pod *Pod) (*Pod, error) {
	return r.write(pod, func(p *Pod) error {
		if p.State != PodAllocated {
			return ErrConflict
		}
		p.State, p.Sandbox, p.ClaimedAt = PodIdle, "", time.Time{}
		return nil
	})
}

func (r *memRuntime) write(pod *Pod, mutate func(*Pod) error) (*Pod, error) {
	r.mu.Lock()
	current, ok := r.pods[pod.Key()]
	if !ok || current.Version != pod.Version {
		r.mu.Unlock()
		return nil, ErrConflict
	}
	updated := *current
	if err := mutate(&updated); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	updated.Version = bumpVersion(current.Version)
	r.pods[pod.Key()] = &updated
	r.mu.Unlock()
	r.notify(&updated, false)
	return &updated, nil
}

// Resize records the resources on the pod and marks it Resized.
func (r *memRuntime) Resize(_ context.Context, pod *Pod, resources corev1.ResourceRequirements) error {
	if errors.Is(r.resizeErr, ErrCannotResize) {
		return r.resizeErr
	}
	_, err := r.write(pod, func(p *Pod) error {
		p.Resized = true
		return nil
	})
	if err != nil {
		return err
	}
	r.mu.Lock()
	if r.resources == nil {
		r.resources = map[string]corev1.ResourceRequirements{}
	}
	r.resources[pod.Key()] = resources
	r.mu.Unlock()
	return r.resizeErr
}

func (r *memRuntime) Delete(_ context.Context, p *Pod) error {
	r.mu.Lock()
	delete(r.pods, p.Key())
	r.deleted = append(r.deleted, p.Key())
	r.mu.Unlock()
	r.notify(p, true)
	return nil
}
func (r *memRuntime) Target(*Pod) client.Target { return client.Target{} }
func (r *memRuntime) Address(p *Pod) string     { return p.IP }
func (r *memRuntime) TemplateHash(p *arlv1alpha1.WarmPool) string {
	return HashTemplate(&p.Spec.Template)
}

func (r *memRuntime) notify(p *Pod, deleted bool) {
	r.mu.Lock()
	onChange := r.onChange
	r.mu.Unlock()
	if onChange != nil {
		onChange(p, deleted)
	}
}

// update changes a cached pod as a watch event would.
func (r *memRuntime) update(t *testing.T, key string, mutate func(*Pod)) {
	t.Helper()
	r.mu.Lock()
	current, ok := r.pods[key]
	if !ok {
		r.mu.Unlock()
		t.Fatalf("no pod %s", key)
	}
	updated := *current
	mutate(&updated)
	updated.Version = bumpVersion(current.Version)
	r.pods[key] = &updated
	r.mu.Unlock()
	r.notify(&updated, false)
}

func (r *memRuntime) setReady(t *testing.T, key string) {
	t.Helper()
	r.update(t, key, func(p *Pod) { p.Ready = true })
}

// show lets the cache catch up with the pods created while it lagged.
func (r *memRuntime) show() {
	r.mu.Lock()
	var shown []*Pod
	for key, p := range r.lagging {
		r.pods[key] = p
		shown = append(shown, p)
	}
	r.lagging = map[string]*Pod{}
	r.mu.Unlock()
	for _, p := range shown {
		r.notify(p, false)
	}
}

func (r *memRuntime) creates() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.createCalls
}

func (r *memRuntime) deletedKeys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.deleted...)
	sort.Strings(out)
	return out
}

func (r *memRuntime) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for k := range r.pods {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func bumpVersion(v string) string {
	n, _ := strconv.Atoi(v)
	return strconv.Itoa(n + 1)
}

// memStore is a StoreCheck whose verdict the test sets: Verify latches a
// failure as the real guard does.
type memStore struct {
	mu        sync.Mutex
	err       error
	verifyErr error
}

func (s *memStore) Err() error { s.mu.Lock(); defer s.mu.Unlock(); return s.err }
func (s *memStore) Verify(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.verifyErr != nil {
		s.err = s.verifyErr
	}
	return s.err
}

// harness is a Controller over a memRuntime, a fake clientset and a fake
// clock that starts at the real time (so pods dated with time.Now fit).
type harness struct {
	c     *Controller
	rt    *memRuntime
	cs    *fake.Clientset
	store *memStore
	clock *testingclock.FakeClock
}

// newHarness starts a controller whose runtime holds pods; they enter the
// free list in that order, as a runtime's first list would deliver them.
func newHarness(t testing.TB, pods ...*Pod) *harness {
	t.Helper()
	cs := fake.NewSimpleClientset()
	factory := informers.NewSharedInformerFactory(cs, 0)
	fakeClock := testingclock.NewFakeClock(time.Now())
	h := &harness{rt: newMemRuntime(fakeClock, pods...), cs: cs, store: &memStore{}, clock: fakeClock}
	var err error
	h.c, err = New(Config{
		Runtime:   h.rt,
		WarmPools: factory.Arl().V1alpha1().WarmPools(),
		Sandboxes: factory.Arl().V1alpha1().Sandboxes(),
		Client:    cs.ArlV1alpha1(),
		Store:     h.store,
		Clock:     fakeClock,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.rt.onChange = h.c.onPodChange
	for _, p := range pods {
		h.c.onPodChange(p, false)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), h.c.HasSynced) {
		t.Fatal("caches did not sync")
	}
	return h
}

// newPool is a WarmPool of replicas idle pods of image.
func newPool(namespace, name string, replicas int32, image string) *arlv1alpha1.WarmPool {
	return &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID("uid-" + name)},
		Spec: arlv1alpha1.WarmPoolSpec{Replicas: ptr.To(replicas), Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: arl.ExecutorContainerName, Image: image}}}}},
	}
}

// hashOf is the template hash of pool's pods.
func hashOf(pool *arlv1alpha1.WarmPool) string {
	return HashTemplate(&pool.Spec.Template)
}

func (h *harness) createPool(t *testing.T, namespace, name string) {
	t.Helper()
	h.addPool(t, newPool(namespace, name, 0, "python:3.9-slim"))
}

// addPool stores a pool and waits for the controller's cache to have it.
func (h *harness) addPool(t testing.TB, pool *arlv1alpha1.WarmPool) {
	t.Helper()
	if _, err := h.cs.ArlV1alpha1().WarmPools(pool.Namespace).Create(context.Background(), pool, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "pool "+pool.Name+" in the cache", func() bool {
		_, err := h.c.pools.WarmPools(pool.Namespace).Get(pool.Name)
		return err == nil
	})
}

// addSandbox stores a Sandbox and waits for the controller's cache to have it.
func (h *harness) addSandbox(t *testing.T, sandbox *arlv1alpha1.Sandbox) {
	t.Helper()
	if _, err := h.cs.ArlV1alpha1().Sandboxes(sandbox.Namespace).Create(context.Background(), sandbox, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "sandbox "+sandbox.Name+" in the cache", func() bool {
		_, err := h.c.sandboxes.Sandboxes(sandbox.Namespace).Get(sandbox.Name)
		return err == nil
	})
}

func (h *harness) getSandbox(t *testing.T, namespace, name string) *arlv1alpha1.Sandbox {
	t.Helper()
	s, err := h.cs.ArlV1alpha1().Sandboxes(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (h *harness) deletePool(t *testing.T, namespace, name string) {
	t.Helper()
	if err := h.cs.ArlV1alpha1().WarmPools(namespace).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "the deletion of pool "+name+" seen", func() bool { return h.c.deletions.seen(namespace + "/" + name) })
}

// sync runs one sync of a pool and fails the test on an error.
func (h *harness) sync(t *testing.T, key string) time.Duration {
	t.Helper()
	requeue, err := h.c.syncPool(context.Background(), key)
	if err != nil {
		t.Fatalf("syncing %s: %v", key, err)
	}
	return requeue
}

func (h *harness) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func idlePod(namespace, pool, name string) *Pod {
	return &Pod{Namespace: namespace, Name: name, UID: types.UID("uid-" + name), Pool: pool, State: PodIdle, Ready: true,
		Created: time.Now().Add(-time.Hour)}
}

func allocatedPod(namespace, pool, name, sandbox string) *Pod {
	p := idlePod(namespace, pool, name)
	p.State, p.Sandbox, p.ClaimedAt = PodAllocated, sandbox, time.Now().Add(-time.Hour)
	return p
}

// errInjected is a runtime failure a test asked for.
var errInjected = errors.New("injected failure")

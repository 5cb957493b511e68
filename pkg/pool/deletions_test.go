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
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/generated/clientset/versioned/fake"
	informers "github.com/arl-infra/arl/pkg/generated/informers/externalversions"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// memRuntime is an in-memory Runtime: pods are records, nothing runs. It
// stands in for Kubernetes so the manager's decisions can be checked
// without a cluster (test/e2e checks them with one).
type memRuntime struct {
	mu      sync.Mutex
	pods    map[string]*Pod
	deleted []string
}

var _ Runtime = &memRuntime{}

func newMemRuntime(pods ...*Pod) *memRuntime {
	r := &memRuntime{pods: map[string]*Pod{}}
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
func (r *memRuntime) Create(context.Context, *arl.WarmPool) (*Pod, error) {
	return nil, errors.New("memRuntime creates no pods")
}
func (r *memRuntime) Claim(context.Context, *Pod, string) (*Pod, error) { return nil, ErrConflict }
func (r *memRuntime) Release(context.Context, *Pod) (*Pod, error)       { return nil, ErrConflict }
func (r *memRuntime) Delete(_ context.Context, p *Pod) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pods, p.Key())
	r.deleted = append(r.deleted, p.Key())
	return nil
}
func (r *memRuntime) Target(*Pod) client.Target           { return client.Target{} }
func (r *memRuntime) Address(p *Pod) string               { return p.IP }
func (r *memRuntime) TemplateHash(p *arl.WarmPool) string { return HashTemplate(&p.Spec.Template) }

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

type harness struct {
	c     *Controller
	rt    *memRuntime
	cs    *fake.Clientset
	store *memStore
}

func newHarness(t *testing.T, pods ...*Pod) *harness {
	t.Helper()
	cs := fake.NewSimpleClientset()
	factory := informers.NewSharedInformerFactory(cs, 0)
	h := &harness{rt: newMemRuntime(pods...), cs: cs, store: &memStore{}}
	var err error
	h.c, err = New(Config{
		Runtime:   h.rt,
		WarmPools: factory.Arl().V1alpha1().WarmPools(),
		Sandboxes: factory.Arl().V1alpha1().Sandboxes(),
		Client:    cs.ArlV1alpha1(),
		Store:     h.store,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), h.c.HasSynced) {
		t.Fatal("caches did not sync")
	}
	return h
}

func (h *harness) createPool(t *testing.T, namespace, name string) {
	t.Helper()
	pool := &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID("uid-" + name)},
		Spec: arlv1alpha1.WarmPoolSpec{Replicas: ptr.To[int32](0), Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: arl.ExecutorContainerName, Image: "python:3.9-slim"}}}}},
	}
	if _, err := h.cs.ArlV1alpha1().WarmPools(namespace).Create(context.Background(), pool, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "pool "+name+" in the cache", func() bool {
		_, err := h.c.pools.WarmPools(namespace).Get(name)
		return err == nil
	})
}

func (h *harness) deletePool(t *testing.T, namespace, name string) {
	t.Helper()
	if err := h.cs.ArlV1alpha1().WarmPools(namespace).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, "the deletion of pool "+name+" seen", func() bool { return h.c.deletions.seen(namespace + "/" + name) })
}

func (h *harness) waitFor(t *testing.T, what string, cond func() bool) {
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

func TestDecideMissingPool(t *testing.T) {
	broken := errors.New("the store has no ARL marker")
	for _, tc := range []struct {
		name     string
		seen     bool
		storeErr error
		want     missingPoolAction
	}{
		{"deletion not seen, store fine: an administrator decides", false, nil, keepPods},
		{"deletion not seen, store broken", false, broken, keepPods},
		{"deletion seen, store fine: the pods go", true, nil, deletePods},
		{"deletion seen, store cannot be vouched for: later", true, broken, retryLater},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := decideMissingPool(tc.seen, tc.storeErr); got != tc.want {
				t.Fatalf("decideMissingPool(%v, %v) = %v, want %v", tc.seen, tc.storeErr, got, tc.want)
			}
		})
	}
}

// TestMissingPoolKeepsItsPods: pods whose pool is merely absent (as after
// etcd came back empty) stay; a seen deletion removes them.
func TestMissingPoolKeepsItsPods(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t,
		idlePod("ns", "lost", "lost-a"), allocatedPod("ns", "lost", "lost-b", "sb"),
		idlePod("ns", "gone", "gone-a"), allocatedPod("ns", "gone", "gone-b", "sb2"),
	)
	if _, err := h.c.syncPool(ctx, "ns/lost"); err != nil {
		t.Fatal(err)
	}
	if got := h.rt.names(); len(got) != 4 {
		t.Fatalf("pods of a pool missing without a seen deletion were deleted: left %v", got)
	}

	h.createPool(t, "ns", "gone")
	h.deletePool(t, "ns", "gone")
	if _, err := h.c.syncPool(ctx, "ns/gone"); err != nil {
		t.Fatal(err)
	}
	want := []string{"ns/lost-a", "ns/lost-b"}
	if got := h.rt.names(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("after the pool's deletion was seen: pods %v, want %v", got, want)
	}
}

// TestSeenDeletionWaitsForAVerifiedStore: a deletion seen while the store
// cannot be vouched for deletes nothing.
func TestSeenDeletionWaitsForAVerifiedStore(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, idlePod("ns", "p", "p-a"))
	h.createPool(t, "ns", "p")
	h.deletePool(t, "ns", "p")
	h.store.verifyErr = errors.New("the store has no ARL marker")
	if _, err := h.c.syncPool(ctx, "ns/p"); err == nil {
		t.Fatal("syncPool acted on a deletion in a store that failed its check")
	}
	if _, err := h.c.syncPool(ctx, "ns/p"); err != nil {
		t.Fatalf("with the store refused, the sync must wait, not fail: %v", err)
	}
	if got := h.rt.names(); len(got) != 1 {
		t.Fatalf("pods deleted while the store was refused: left %v", got)
	}
}

func TestTombstoneIsNotASeenDeletion(t *testing.T) {
	h := newHarness(t)
	pool := &arlv1alpha1.WarmPool{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	h.c.observePoolDeleted(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: pool})
	if h.c.deletions.seen("ns/p") {
		t.Fatal("a relist's tombstone counted as a seen deletion")
	}
	h.c.observePoolDeleted(pool)
	if !h.c.deletions.seen("ns/p") {
		t.Fatal("a watch DELETE event was not recorded")
	}
	// A pool of that name created again is not deleted.
	h.createPool(t, "ns", "p")
	if h.c.deletions.seen("ns/p") {
		t.Fatal("a pool created again still counts as deleted")
	}
}

// TestOrphanPodKeptWhileStoreUnverified: an allocated pod whose Sandbox
// is missing is reclaimed only from a store that checks out.
func TestOrphanPodKeptWhileStoreUnverified(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, allocatedPod("ns", "p", "p-a", "missing"))
	h.createPool(t, "ns", "p")
	h.store.verifyErr = errors.New("the store's revision went back")
	if _, err := h.c.syncPool(ctx, "ns/p"); err == nil {
		t.Fatal("an orphan was handled in a store that failed its check")
	}
	if got := h.rt.names(); len(got) != 1 {
		t.Fatalf("an allocated pod was reclaimed while the store failed its check: left %v", got)
	}

	h2 := newHarness(t, allocatedPod("ns", "p", "p-a", "missing"))
	h2.createPool(t, "ns", "p")
	if _, err := h2.c.syncPool(ctx, "ns/p"); err != nil {
		t.Fatal(err)
	}
	if got := h2.rt.names(); len(got) != 0 {
		t.Fatalf("an orphan past its grace in a verified store was kept: %v", got)
	}
}

// TestLeadsAgainAfterLosingLeadership: a replica that lost the Lease (a
// kube-apiserver outage longer than the renew deadline) and wins it back
// manages pools again: each term has its own work queue.
func TestLeadsAgainAfterLosingLeadership(t *testing.T) {
	h := newHarness(t)
	for term := 0; term < 3; term++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			h.c.Lead(ctx)
			close(done)
		}()
		name := fmt.Sprintf("p%d", term)
		h.createPool(t, "ns", name)
		h.waitFor(t, fmt.Sprintf("term %d to write pool %s's status", term, name), func() bool {
			p, err := h.cs.ArlV1alpha1().WarmPools("ns").Get(ctx, name, metav1.GetOptions{})
			return err == nil && p.Status.Selector != ""
		})
		cancel()
		<-done
	}
}

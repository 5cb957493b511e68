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

package claims

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	testingclock "k8s.io/utils/clock/testing"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	"github.com/arl-infra/arl/pkg/standalone"
)

// memPods is an in-memory pool.Runtime (a fake of our own component, for
// this unit test): what kube.Runtime does with pod labels, with the same
// version preconditions. Every replica's Runtime wraps the same one, as
// every replica watches the same pods.
type memPods struct {
	mu       sync.Mutex
	pods     map[string]*pool.Pod
	version  int
	watchers []func(*pool.Pod, bool)
	patches  atomic.Int32 // label writes (Claim and Release)
	// deleteErr, when set, is what Delete answers (a kube-apiserver away).
	deleteErr error
	// behind holds, by pod key, the older copy Get answers while the cache
	// has not seen a pod's newest version.
	behind map[string]*pool.Pod
}

// changeUnseen writes a new version of the pod that the cache does not
// see yet (a kubelet status write still on its way), until catchUp.
func (m *memPods) changeUnseen(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.pods[key]
	old := *cur
	if m.behind == nil {
		m.behind = map[string]*pool.Pod{}
	}
	m.behind[key] = &old
	m.version++
	cur.Version = strconv.Itoa(m.version)
}

func (m *memPods) catchUp(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.behind, key)
	m.notify(m.pods[key], false)
}

func newMemPods(names ...string) *memPods {
	m := &memPods{pods: map[string]*pool.Pod{}}
	for _, n := range names {
		m.version++
		m.pods["ns/"+n] = &pool.Pod{Namespace: "ns", Name: n, UID: types.UID("uid-" + n), Version: strconv.Itoa(m.version),
			Pool: "p", State: pool.PodIdle, Ready: true, Created: time.Now()}
	}
	return m
}

func (m *memPods) notify(p *pool.Pod, deleted bool) {
	for _, w := range m.watchers {
		c := *p
		w(&c, deleted)
	}
}

func (m *memPods) Run(ctx context.Context, onChange func(*pool.Pod, bool)) error {
	m.mu.Lock()
	m.watchers = append(m.watchers, onChange)
	m.mu.Unlock()
	<-ctx.Done()
	return nil
}
func (m *memPods) HasSynced() bool { return true }
func (m *memPods) Get(namespace, name string) (*pool.Pod, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pods[namespace+"/"+name]
	if !ok {
		return nil, false
	}
	if old, ok := m.behind[namespace+"/"+name]; ok {
		p = old
	}
	c := *p
	return &c, true
}
func (m *memPods) List(namespace, _ string) []*pool.Pod { return m.ListAll() }
func (m *memPods) ListAll() []*pool.Pod {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*pool.Pod
	for _, p := range m.pods {
		c := *p
		out = append(out, &c)
	}
	return out
}
func (m *memPods) Create(context.Context, *arlv1alpha1.WarmPool) (*pool.Pod, error) {
	return nil, errors.New("not used")
}
func (m *memPods) setState(p *pool.Pod, state pool.PodState, sandbox string) (*pool.Pod, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.pods[p.Key()]
	if !ok || cur.Version != p.Version {
		return nil, pool.ErrConflict
	}
	m.version++
	cur.State, cur.Sandbox, cur.Version = state, sandbox, strconv.Itoa(m.version)
	m.patches.Add(1)
	m.notify(cur, false)
	c := *cur
	return &c, nil
}
func (m *memPods) Claim(_ context.Context, p *pool.Pod, sandbox string) (*pool.Pod, error) {
	return m.setState(p, pool.PodAllocated, sandbox)
}
func (m *memPods) Release(_ context.Context, p *pool.Pod) (*pool.Pod, error) {
	return m.setState(p, pool.PodIdle, "")
}
func (m *memPods) Delete(_ context.Context, p *pool.Pod) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.deleteErr != nil {
		return m.deleteErr
	}
	if cur, ok := m.pods[p.Key()]; ok && cur.UID == p.UID {
		delete(m.pods, p.Key())
		m.notify(cur, true)
	}
	return nil
}
func (m *memPods) Target(*pool.Pod) client.Target            { return client.Target{} }
func (m *memPods) Address(*pool.Pod) string                  { return "" }
func (m *memPods) TemplateHash(*arlv1alpha1.WarmPool) string { return "" }

// startEtcd is a real etcd (embedded) for the claims.
func startEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	u, err := standalone.FreeLocalURL()
	if err != nil {
		t.Fatal(err)
	}
	e, err := standalone.StartEtcd(context.Background(), t.TempDir(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// replicas starts n Runtimes over one etcd and one set of pods, each with
// its own ledger, as n arl-apiservers.
func replicas(t *testing.T, etcd *clientv3.Client, pods *memPods, n int) []*Runtime {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var out []*Runtime
	for range n {
		r := NewRuntime(pods, NewLedger(etcd, "/registry/test"))
		go func() { _ = r.Run(ctx, func(*pool.Pod, bool) {}) }()
		out = append(out, r)
	}
	for _, r := range out {
		waitUntil(t, "the ledger synced", r.HasSynced)
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func TestOnlyOneReplicaClaimsAPod(t *testing.T) {
	etcd := startEtcd(t)
	pods := newMemPods("a")
	rs := replicas(t, etcd, pods, 3)

	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rs[i%len(rs)]
			p, _ := pods.Get("ns", "a") // every replica read the pod idle
			_, err := r.Claim(context.Background(), p, fmt.Sprintf("sandbox-%d", i))
			switch {
			case err == nil:
				won.Add(1)
			case !errors.Is(err, pool.ErrConflict):
				t.Errorf("claim %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d claims of one pod succeeded, want 1", won.Load())
	}
	// Every replica comes to see the pod allocated, and its labels follow.
	for i, r := range rs {
		waitUntil(t, fmt.Sprintf("replica %d sees the pod allocated", i), func() bool {
			p, _ := r.Get("ns", "a")
			return p.State == pool.PodAllocated && !p.Bindable()
		})
	}
	waitUntil(t, "the pod's labels say allocated", func() bool {
		p, _ := pods.Get("ns", "a")
		return p.State == pool.PodAllocated && p.Sandbox != ""
	})
	if n := pods.patches.Load(); n != 1 {
		t.Errorf("%d label writes for one claim, want 1", n)
	}
}

func TestClaimReleaseDelete(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// run acts through replica a and b; it returns what should hold after.
		run func(t *testing.T, a, b *Runtime, pods *memPods)
	}{{
		name: "a released pod is idle again on every replica, by its labels too",
		run: func(t *testing.T, a, b *Runtime, pods *memPods) {
			p, _ := a.Get("ns", "a")
			if _, err := a.Claim(ctx, p, "s1"); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "labels", func() bool { q, _ := pods.Get("ns", "a"); return q.State == pool.PodAllocated })
			claimed, _ := a.Get("ns", "a")
			if _, err := b.Release(ctx, claimed); err != nil {
				t.Fatal(err)
			}
			for _, r := range []*Runtime{a, b} {
				waitUntil(t, "idle", func() bool { q, _ := r.Get("ns", "a"); return q.Bindable() })
			}
			if q, _ := pods.Get("ns", "a"); q.State != pool.PodIdle || q.Sandbox != "" {
				t.Errorf("labels after release: %s %q", q.State, q.Sandbox)
			}
		},
	}, {
		name: "a release whose cached pod is behind waits for the cache and returns the pod",
		run: func(t *testing.T, a, b *Runtime, pods *memPods) {
			p, _ := a.Get("ns", "a")
			if _, err := a.Claim(ctx, p, "s1"); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "labels", func() bool { q, _ := pods.Get("ns", "a"); return q.State == pool.PodAllocated })
			claimed, _ := a.Get("ns", "a")
			pods.changeUnseen("ns/a")
			time.AfterFunc(50*time.Millisecond, func() { pods.catchUp("ns/a") })
			if _, err := a.Release(ctx, claimed); err != nil {
				t.Fatalf("release while the cache is behind: %v", err)
			}
			if q, _ := pods.Get("ns", "a"); q.State != pool.PodIdle || q.Sandbox != "" {
				t.Errorf("labels after release: %s %q", q.State, q.Sandbox)
			}
		},
	}, {
		name: "released before its labels were written: the labels stay idle",
		run: func(t *testing.T, a, b *Runtime, pods *memPods) {
			a.labels.ShutDown() // a never labels
			p, _ := a.Get("ns", "a")
			claimed, err := a.Claim(ctx, p, "s1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Release(ctx, claimed); err != nil {
				t.Fatal(err)
			}
			if q, _ := a.Get("ns", "a"); !q.Bindable() {
				t.Errorf("not bindable after release: %+v", q)
			}
			if n := pods.patches.Load(); n != 0 {
				t.Errorf("%d label writes, want none", n)
			}
		},
	}, {
		name: "only the holder releases",
		run: func(t *testing.T, a, b *Runtime, pods *memPods) {
			p, _ := a.Get("ns", "a")
			claimed, err := a.Claim(ctx, p, "s1")
			if err != nil {
				t.Fatal(err)
			}
			other := *claimed
			other.Sandbox = "s2"
			if _, err := b.Release(ctx, &other); !errors.Is(err, pool.ErrConflict) {
				t.Errorf("release by another Sandbox: %v, want ErrConflict", err)
			}
			if q, _ := a.Get("ns", "a"); q.Sandbox != "s1" {
				t.Errorf("holder after a foreign release: %q", q.Sandbox)
			}
		},
	}, {
		name: "an idle pod being deleted cannot be claimed, and its hold goes with it",
		run: func(t *testing.T, a, b *Runtime, pods *memPods) {
			p, _ := a.Get("ns", "a")
			// Hold it, as Delete does first, without deleting yet.
			if err := a.ledger.Create(ctx, Claim{Namespace: "ns", Pod: "a", UID: p.UID}); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "b sees the hold", func() bool { q, _ := b.Get("ns", "a"); return !q.Bindable() })
			if _, err := b.Claim(ctx, p, "s1"); !errors.Is(err, pool.ErrConflict) {
				t.Errorf("claim of a held pod: %v, want ErrConflict", err)
			}
			if err := a.Delete(ctx, p); err != nil {
				t.Fatal(err)
			}
			waitUntil(t, "the hold removed with the pod", func() bool {
				resp, err := a.ledger.client.Get(ctx, a.ledger.key(p.UID))
				return err == nil && len(resp.Kvs) == 0
			})
		},
	}, {
		name: "a pod whose delete failed is not left held",
		run: func(t *testing.T, a, b *Runtime, pods *memPods) {
			p, _ := a.Get("ns", "a")
			pods.deleteErr = errors.New("kube-apiserver is away")
			if err := a.Delete(ctx, p); err == nil {
				t.Fatal("delete succeeded")
			}
			for _, r := range []*Runtime{a, b} {
				waitUntil(t, "bindable again", func() bool { q, _ := r.Get("ns", "a"); return q.Bindable() })
			}
		},
	}, {
		name: "deleting a pod another replica just claimed is a conflict",
		run: func(t *testing.T, a, b *Runtime, pods *memPods) {
			p, _ := a.Get("ns", "a")
			if _, err := b.Claim(ctx, p, "s1"); err != nil {
				t.Fatal(err)
			}
			// A replica whose view has not caught up (its ledger never ran).
			lagging := NewRuntime(pods, NewLedger(a.ledger.client, "/registry/test"))
			if err := lagging.Delete(ctx, p); !errors.Is(err, pool.ErrConflict) {
				t.Errorf("delete of a just-claimed pod: %v, want ErrConflict", err)
			}
			if _, ok := pods.Get("ns", "a"); !ok {
				t.Error("the claimed pod was deleted")
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			etcd := startEtcd(t)
			pods := newMemPods("a")
			rs := replicas(t, etcd, pods, 2)
			tt.run(t, rs[0], rs[1], pods)
		})
	}
}

// A replica that starts finds the claims made before, and labels a claim
// whose maker died before labelling it.
func TestStartFindsClaimsAndLabelsThem(t *testing.T) {
	etcd := startEtcd(t)
	pods := newMemPods("a", "b")
	old := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
	if _, err := etcd.Put(context.Background(), KeyPrefix("/registry/test")+"uid-a",
		`{"namespace":"ns","pod":"a","sandbox":"s1","claimedAt":"`+old+`"}`); err != nil {
		t.Fatal(err)
	}
	r := replicas(t, etcd, pods, 1)[0]
	if p, _ := r.Get("ns", "a"); p.State != pool.PodAllocated || p.Sandbox != "s1" {
		t.Errorf("claimed pod seen as %s %q", p.State, p.Sandbox)
	}
	if p, _ := r.Get("ns", "b"); !p.Bindable() {
		t.Errorf("unclaimed pod seen as %+v", p)
	}
	// The next change of the pod (any event) has it labelled.
	p, _ := pods.Get("ns", "a")
	pods.mu.Lock()
	pods.notify(p, false)
	pods.mu.Unlock()
	waitUntil(t, "labels of the orphaned claim", func() bool {
		q, _ := pods.Get("ns", "a")
		return q.State == pool.PodAllocated && q.Sandbox == "s1"
	})
}

type preparingPods struct{ *memPods }

func (preparingPods) Prepare(context.Context) error { return nil }

type networkPods struct{ *memPods }

func (networkPods) EnsurePoolNetwork(context.Context, *arlv1alpha1.WarmPool) (string, error) {
	return "", nil
}
func (networkPods) DeletePoolNetwork(context.Context, string, string) error { return nil }
func (networkPods) NetworkPoolKeys() []string                               { return nil }

type bothPods struct{ networkPods }

func (bothPods) Prepare(context.Context) error { return nil }

// Wrap keeps what else the wrapped runtime is: the pool manager looks for
// pool.NetworkRuntime, the server for pool.Preparer.
func TestWrapKeepsTheInnerInterfaces(t *testing.T) {
	m := newMemPods()
	for _, tc := range []struct {
		name                  string
		inner                 pool.Runtime
		wantNetwork, wantPrep bool
	}{
		{"plain", m, false, false},
		{"preparer", preparingPods{m}, false, true},
		{"network", networkPods{m}, true, false},
		{"both", bothPods{networkPods{m}}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := Wrap(tc.inner, NewLedger(nil, "/registry"))
			if _, ok := w.(pool.NetworkRuntime); ok != tc.wantNetwork {
				t.Errorf("NetworkRuntime: %v, want %v", ok, tc.wantNetwork)
			}
			if _, ok := w.(pool.Preparer); ok != tc.wantPrep {
				t.Errorf("Preparer: %v, want %v", ok, tc.wantPrep)
			}
		})
	}
}

// TestClaimedViews: a claimed pod's view is made once per pod and claim;
// a new pod or a new claim makes a new one.
func TestClaimedViews(t *testing.T) {
	var v claimedViews
	pod := &pool.Pod{Namespace: "ns", Name: "p", UID: "u", State: pool.PodIdle}
	claim := Claim{Namespace: "ns", Pod: "p", UID: "u", Sandbox: "a", revision: 5}
	first := v.get(pod, claim, viewClaimed)
	if first.State != pool.PodAllocated || first.Sandbox != "a" || pod.State != pool.PodIdle {
		t.Fatalf("view = %+v of pod %+v, want a copy allocated to a", first, pod)
	}
	if again := v.get(pod, claim, viewClaimed); again != first {
		t.Error("the same pod and claim made a second view")
	}
	moved := claim
	moved.Sandbox, moved.revision = "b", 6
	if got := v.get(pod, moved, viewClaimed); got.Sandbox != "b" {
		t.Errorf("view after the claim moved = %+v, want allocated to b", got)
	}
	changed := *pod
	changed.Ready = true
	if got := v.get(&changed, moved, viewClaimed); !got.Ready || got.Sandbox != "b" {
		t.Errorf("view of a changed pod = %+v, want Ready and allocated to b", got)
	}
	v.forget("u")
	if len(v.views) != 0 {
		t.Errorf("%d views after the pod was forgotten", len(v.views))
	}
}

// TestClaimLabelsFollowAfterTheBurst: a bind's label patch is held back for
// labelDelay, so a burst's binds do not share the node's CPU with their own
// patches (burst of 10 all Ready: 51-90 ms with the patches at once, 35-65
// ms with them held back 250 ms, on the test cluster); then it is written.
func TestClaimLabelsFollowAfterTheBurst(t *testing.T) {
	etcd := startEtcd(t)
	pods := newMemPods("a")
	clk := testingclock.NewFakeClock(time.Now())
	r := newRuntime(pods, NewLedger(etcd, "/registry/test"), clk)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = r.Run(ctx, func(*pool.Pod, bool) {}) }()
	waitUntil(t, "the ledger synced", r.HasSynced)

	p, _ := r.Get("ns", "a")
	if _, err := r.Claim(ctx, p, "s1"); err != nil {
		t.Fatal(err)
	}
	// The patch is not due while the fake clock stands still: nothing is
	// written in the 200 ms in which an unheld patch lands.
	err := wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 200*time.Millisecond, true,
		func(context.Context) (bool, error) { return pods.patches.Load() != 0, nil })
	if err == nil {
		t.Fatalf("labels written before labelDelay passed")
	}
	clk.Step(labelDelay)
	waitUntil(t, "labels", func() bool { q, _ := pods.Get("ns", "a"); return q.State == pool.PodAllocated && q.Sandbox == "s1" })
}

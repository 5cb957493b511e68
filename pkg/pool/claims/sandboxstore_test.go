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
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/storagebackend/factory"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/install"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool"
)

const sandboxPrefix = "/arl.infra.io/sandboxes"

// sandboxStores returns, for each runtime, the Sandboxes' storage as the
// server builds it: the generic etcd3 store (real, on etcd) wrapped by the
// runtime; and that etcd3 store alone, to read back what was written.
func sandboxStores(t *testing.T, endpoints []string, rs ...*Runtime) ([]storage.Interface, storage.Interface) {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	codec := serializer.NewCodecFactory(scheme).LegacyCodec(arlv1alpha1.SchemeGroupVersion)
	config := storagebackend.NewDefaultConfig("/registry/test", codec)
	config.Transport.ServerList = endpoints
	forSandboxes := config.ForResource(arl.Resource("sandboxes"))
	inner, destroy, err := factory.Create(*forSandboxes,
		func() runtime.Object { return &arl.Sandbox{} }, func() runtime.Object { return &arl.SandboxList{} }, sandboxPrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(destroy)
	var wrapped []storage.Interface
	for _, r := range rs {
		wrapped = append(wrapped, r.SandboxStorage(inner, forSandboxes, sandboxPrefix))
	}
	return wrapped, inner
}

func sandboxKey(name string) string { return sandboxPrefix + "/ns/" + name }

// createBound claims pod for a new Sandbox through r with the claim
// deferred, as a Sandbox create does, and stores the Sandbox with it.
func createBound(ctx context.Context, r *Runtime, s storage.Interface, pod *pool.Pod, name string) (*arl.Sandbox, error) {
	ctx, slot := pool.WithClaimSlot(ctx)
	if _, err := r.Claim(ctx, pod, name); err != nil {
		return nil, err
	}
	if slot.Claim == nil {
		return nil, errors.New("the claim was written at once, not deferred to the Sandbox")
	}
	sb := &arl.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name}, Spec: arl.SandboxSpec{PoolRef: "p"}}
	sb.Status.PodName = pod.Name
	out := &arl.Sandbox{}
	return out, s.Create(ctx, sandboxKey(name), sb, out, 0)
}

func TestSandboxAndItsClaimAreOneWrite(t *testing.T) {
	ctx := context.Background()
	etcd := startEtcd(t)
	pods := newMemPods("a", "b")
	rs := replicas(t, etcd, pods, 2)
	stores, plain := sandboxStores(t, etcd.Endpoints(), rs...)
	idleA, _ := pods.Get("ns", "a")

	// Two replicas bind pod a at once: one Sandbox is stored, with the claim.
	first, err := createBound(ctx, rs[0], stores[0], idleA, "first")
	if err != nil {
		t.Fatalf("the first bind of pod a: %v", err)
	}
	if _, err := createBound(ctx, rs[1], stores[1], idleA, "second"); !errors.Is(err, pool.ErrConflict) {
		t.Fatalf("the second bind of pod a: err %v, want pool.ErrConflict", err)
	}
	if err := plain.Get(ctx, sandboxKey("second"), storage.GetOptions{}, &arl.Sandbox{}); !storage.IsNotFound(err) {
		t.Errorf("the Sandbox whose claim lost was stored (get: %v)", err)
	}

	// The generic store reads the Sandbox as the create answered it.
	stored := &arl.Sandbox{}
	if err := plain.Get(ctx, sandboxKey("first"), storage.GetOptions{}, stored); err != nil {
		t.Fatalf("reading the Sandbox through the etcd3 store: %v", err)
	}
	if diff := cmp.Diff(first, stored); diff != "" {
		t.Errorf("stored Sandbox differs from the create's answer (-answer +stored):\n%s", diff)
	}
	if first.ResourceVersion == "" {
		t.Error("the create answered no resourceVersion")
	}
	for _, r := range rs {
		waitUntil(t, "every replica sees pod a bound to first", func() bool {
			p, _ := r.Get("ns", "a")
			return p.State == pool.PodAllocated && p.Sandbox == "first"
		})
	}
	waitUntil(t, "pod a's labels follow", func() bool {
		p, _ := pods.Get("ns", "a")
		return p.Sandbox == "first"
	})

	// A name in use fails as the etcd3 store fails it, and claims nothing.
	idleB, _ := pods.Get("ns", "b")
	if _, err := createBound(ctx, rs[1], stores[1], idleB, "first"); !storage.IsExist(err) {
		t.Fatalf("a second Sandbox named first: err %v, want a key-exists error", err)
	}
	resp, err := etcd.Get(ctx, KeyPrefix("/registry/test")+string(idleB.UID))
	if err != nil || resp.Count != 0 {
		t.Errorf("pod b's claim after the failed create: %d keys (err %v), want none", resp.Count, err)
	}

	// Without a deferred claim the create is the etcd3 store's.
	plainCreate := &arl.Sandbox{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "pending"}}
	if err := stores[0].Create(ctx, sandboxKey("pending"), plainCreate, &arl.Sandbox{}, 0); err != nil {
		t.Fatalf("a create with no claim: %v", err)
	}
	if n := len(rs[0].ledger.List()); n != 1 {
		t.Errorf("%d claims after one bind, want 1", n)
	}
}

// A Sandbox create that fails before its claim is written gives the pod
// back: the free lists must see it idle again, though no claim event
// comes.
func TestUnwrittenClaimReleasedIsIdleAgain(t *testing.T) {
	ctx := context.Background()
	etcd := startEtcd(t)
	pods := newMemPods("a")
	r := NewRuntime(pods, NewLedger(etcd, "/registry/test"))
	changes := make(chan *pool.Pod, 10)
	runCtx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go func() {
		_ = r.Run(runCtx, func(p *pool.Pod, deleted bool) {
			if !deleted {
				changes <- p
			}
		})
	}()
	waitUntil(t, "the ledger synced", r.HasSynced)
	idle, _ := pods.Get("ns", "a")
	claimCtx, _ := pool.WithClaimSlot(ctx)
	claimed, err := r.Claim(claimCtx, idle, "never-stored")
	if err != nil {
		t.Fatal(err)
	}
	if claimed.State != pool.PodAllocated {
		t.Fatalf("the deferred claim's view is %q, want allocated", claimed.State)
	}
	for len(changes) > 0 {
		<-changes
	}
	released, err := r.Release(ctx, claimed)
	if err != nil {
		t.Fatalf("releasing the unwritten claim: %v", err)
	}
	if !released.Bindable() {
		t.Errorf("released pod is not bindable: %+v", released)
	}
	select {
	case p := <-changes:
		if !p.Bindable() {
			t.Errorf("the change reported is not bindable: %+v", p)
		}
	default:
		t.Error("no change reported: the pod stays off the free lists")
	}
}

// A Sandbox delete whose context has a release slot deletes the Sandbox
// and its pod's claim in one transaction, once the delete is validated; a
// claim that moved meanwhile stays for the usual release.
func TestSandboxAndItsClaimLeaveInOneWrite(t *testing.T) {
	ctx := context.Background()
	etcd := startEtcd(t)
	pods := newMemPods("a", "b")
	rs := replicas(t, etcd, pods, 2)
	stores, plain := sandboxStores(t, etcd.Endpoints(), rs...)
	validate := func(context.Context, runtime.Object) error { return nil }
	revision := func() int64 {
		resp, err := etcd.Get(ctx, "/any")
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	claims := func(pod string) int64 {
		resp, err := etcd.Get(ctx, KeyPrefix("/registry/test")+"uid-"+pod, clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Count
	}
	idleA, _ := pods.Get("ns", "a")
	if _, err := createBound(ctx, rs[0], stores[0], idleA, "first"); err != nil {
		t.Fatal(err)
	}
	prepared := 0
	release := pool.WithReleaseSlot(ctx, func(_ context.Context, sb *arl.Sandbox) any {
		prepared++
		p, _ := rs[0].Get("ns", sb.Status.PodName)
		return rs[0].DeferRelease(p)
	})

	// A failed precondition deletes nothing, and nothing is prepared.
	err := stores[0].Delete(release, sandboxKey("first"), &arl.Sandbox{}, storage.NewUIDPreconditions("not-first"), validate, nil, storage.DeleteOptions{})
	if err == nil || prepared != 0 || claims("a") != 1 {
		t.Fatalf("delete with a wrong UID: err %v, %d prepared, %d claims; want an error, none prepared, the claim kept", err, prepared, claims("a"))
	}

	before := revision()
	out := &arl.Sandbox{}
	if err := stores[0].Delete(release, sandboxKey("first"), out, nil, validate, nil, storage.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if writes := revision() - before; writes != 1 || prepared != 1 || claims("a") != 0 {
		t.Errorf("the delete made %d writes, prepared %d times, left %d claims; want 1, 1 and 0", writes, prepared, claims("a"))
	}
	if err := plain.Get(ctx, sandboxKey("first"), storage.GetOptions{}, &arl.Sandbox{}); !storage.IsNotFound(err) {
		t.Errorf("the Sandbox is still stored (get: %v)", err)
	}
	if out.Name != "first" || out.ResourceVersion != strconv.FormatInt(before+1, 10) {
		t.Errorf("the delete answered %s at resourceVersion %q, want first at the delete's %d", out.Name, out.ResourceVersion, before+1)
	}
	// The labels follow in the Sandbox's release; every replica then sees
	// the pod bindable.
	labelled, _ := rs[0].Get("ns", "a")
	if _, err := rs[0].Release(ctx, labelled); err != nil {
		t.Fatalf("releasing pod a after the delete: %v", err)
	}
	for _, r := range rs {
		waitUntil(t, "every replica sees pod a bindable", func() bool {
			p, _ := r.Get("ns", "a")
			return p.Bindable()
		})
	}

	// A claim rewritten between the release's read and the transaction
	// stays; the Sandbox still goes.
	idleB, _ := pods.Get("ns", "b")
	if _, err := createBound(ctx, rs[0], stores[0], idleB, "second"); err != nil {
		t.Fatal(err)
	}
	moved := pool.WithReleaseSlot(ctx, func(ctx context.Context, sb *arl.Sandbox) any {
		p, _ := rs[0].Get("ns", sb.Status.PodName)
		release := rs[0].DeferRelease(p)
		key := KeyPrefix("/registry/test") + "uid-b"
		resp, err := etcd.Get(ctx, key)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("reading pod b's claim: %v", err)
		}
		if _, err := etcd.Put(ctx, key, string(resp.Kvs[0].Value)); err != nil {
			t.Fatal(err)
		}
		return release
	})
	if err := stores[0].Delete(moved, sandboxKey("second"), &arl.Sandbox{}, nil, validate, nil, storage.DeleteOptions{}); err != nil {
		t.Fatalf("delete with a moved claim: %v", err)
	}
	if err := plain.Get(ctx, sandboxKey("second"), storage.GetOptions{}, &arl.Sandbox{}); !storage.IsNotFound(err) || claims("b") != 1 {
		t.Errorf("after a delete whose claim moved: get %v, %d claims; want not found and the claim kept", err, claims("b"))
	}
}

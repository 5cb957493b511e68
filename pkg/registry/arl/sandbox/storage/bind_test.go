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

package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/registry/arl/registrytest"
)

// slotBinder is a fake pool binder (our own component): each bind hands
// out the next pod, deferring its claim to the create's slot when there
// is one, as package claims does.
type slotBinder struct {
	binds    []string // "pod-N deferred" or "pod-N written"
	undone   []string
	bound    int
	failures int
	// releaseContexts and releasesDone count ReleaseWithDelete's contexts
	// and their done calls.
	releaseContexts, releasesDone int
}

func (b *slotBinder) Bind(ctx context.Context, _ *arl.Sandbox) (arl.SandboxStatus, func(), error) {
	pod := fmt.Sprintf("pod-%d", len(b.binds))
	how := "written"
	if slot := pool.ClaimSlotFrom(ctx); slot != nil {
		slot.Claim, how = pod, "deferred"
	}
	b.binds = append(b.binds, pod+" "+how)
	return arl.SandboxStatus{Phase: arl.SandboxReady, PodName: pod}, func() { b.undone = append(b.undone, pod) }, nil
}
func (b *slotBinder) Bound(*arl.Sandbox, time.Duration)      { b.bound++ }
func (b *slotBinder) BindFailed(*arl.Sandbox, time.Duration) { b.failures++ }
func (b *slotBinder) Release(context.Context, *arl.Sandbox)  {}
func (b *slotBinder) ReleaseWithDelete(ctx context.Context) (context.Context, func()) {
	b.releaseContexts++
	return pool.WithReleaseSlot(ctx, func(context.Context, *arl.Sandbox) any { return nil }), func() { b.releasesDone++ }
}

// slotsSeen is the Sandboxes' storage, noting which deletes carried a
// pool.ReleaseSlot.
type slotsSeen struct {
	storage.Interface
	mu         sync.Mutex
	with, none int
}

func (s *slotsSeen) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validateDeletion storage.ValidateObjectFunc, cachedExistingObject runtime.Object, opts storage.DeleteOptions) error {
	s.mu.Lock()
	if pool.HasReleaseSlot(ctx) {
		s.with++
	} else {
		s.none++
	}
	s.mu.Unlock()
	return s.Interface.Delete(ctx, key, out, preconditions, validateDeletion, cachedExistingObject, opts)
}

// newSlotStorage is the Sandboxes' storage over a slotBinder, on a test etcd.
func newSlotStorage(t *testing.T) (SandboxStorage, *slotBinder) {
	t.Helper()
	opts, scheme := registrytest.NewRESTOptions(t, "sandboxes")
	binder := &slotBinder{}
	s, err := NewStorage(scheme, opts, binder, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Sandbox.Store.DestroyFunc)
	return s, binder
}

// A delete, alone or in a collection, offers the storage its pod's release
// (the Binder's ReleaseWithDelete), and says when it is done; a dry run
// does not.
func TestDeletesOfferTheirRelease(t *testing.T) {
	s, binder := newSlotStorage(t)
	seen := &slotsSeen{Interface: s.Sandbox.Store.Storage.Storage}
	s.Sandbox.Store.Storage.Storage = seen
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	for _, name := range []string{"a", "b", "c"} {
		sb := validSandbox()
		sb.Name = name
		if _, err := s.Sandbox.Create(ctx, sb, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Sandbox.Delete(ctx, "a", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatalf("dry-run delete: %v", err)
	}
	if _, _, err := s.Sandbox.Delete(ctx, "a", rest.ValidateAllObjectFunc, &metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := s.Sandbox.DeleteCollection(ctx, rest.ValidateAllObjectFunc, &metav1.DeleteOptions{}, &metainternalversion.ListOptions{}); err != nil {
		t.Fatalf("collection delete: %v", err)
	}
	if seen.with != 3 || seen.none != 0 || binder.releaseContexts != 2 || binder.releasesDone != 2 {
		t.Errorf("%d deletes with a release slot, %d without; %d release contexts, %d done; want 3, 0, 2, 2",
			seen.with, seen.none, binder.releaseContexts, binder.releasesDone)
	}
}

// lostClaims is the Sandboxes' storage whose deferred claims lose their
// pod to another replica the first `lose` times (the fault is a race
// between replicas, not provoked with one server: a fake, named so).
type lostClaims struct {
	storage.Interface
	lose int
}

func (s *lostClaims) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	if pool.DeferredClaim(ctx) != nil && s.lose > 0 {
		s.lose--
		return pool.ErrConflict
	}
	return s.Interface.Create(ctx, key, obj, out, ttl)
}

func TestCreateBindsAnotherPodWhenItsDeferredClaimLoses(t *testing.T) {
	tests := []struct {
		lose      int
		wantBinds []string
		wantPod   string
	}{
		{lose: 0, wantBinds: []string{"pod-0 deferred"}, wantPod: "pod-0"},
		{lose: 1, wantBinds: []string{"pod-0 deferred", "pod-1 deferred"}, wantPod: "pod-1"},
		// After three lost races the claim is written before the Sandbox.
		{lose: 5, wantBinds: []string{"pod-0 deferred", "pod-1 deferred", "pod-2 deferred", "pod-3 written"}, wantPod: "pod-3"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("lose %d", tc.lose), func(t *testing.T) {
			s, binder := newSlotStorage(t)
			s.Sandbox.Store.Storage.Storage = &lostClaims{Interface: s.Sandbox.Store.Storage.Storage, lose: tc.lose}

			ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
			out, err := s.Sandbox.Create(ctx, validSandbox(), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantBinds, binder.binds); diff != "" {
				t.Errorf("binds (-want +got):\n%s", diff)
			}
			if got := out.(*arl.Sandbox).Status.PodName; got != tc.wantPod {
				t.Errorf("bound pod %q, want %q", got, tc.wantPod)
			}
			// A lost claim took no pod: there is nothing to give back.
			if len(binder.undone) != 0 || binder.failures != 0 || binder.bound != 1 {
				t.Errorf("undone %v, failures %d, bound %d; want none, 0, 1", binder.undone, binder.failures, binder.bound)
			}
		})
	}
}

func TestCreateGivesThePodBackWhenTheSandboxIsNotStored(t *testing.T) {
	s, binder := newSlotStorage(t)
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	if _, err := s.Sandbox.Create(ctx, validSandbox(), rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Sandbox.Create(ctx, validSandbox(), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	var status interface{ Status() metav1.Status }
	if !errors.As(err, &status) || status.Status().Code != 409 {
		t.Fatalf("a second Sandbox of the same name: %v, want 409", err)
	}
	if diff := cmp.Diff([]string{"pod-1"}, binder.undone); diff != "" {
		t.Errorf("pods given back (-want +got):\n%s", diff)
	}
}

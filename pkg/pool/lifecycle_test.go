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
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// TestSandboxesExpire: a Sandbox is deleted once older than its
// maxLifetimeSeconds, or idle (no bind, no Task) for its
// idleTimeoutSeconds, but never while a Task of it is unfinished.
func TestSandboxesExpire(t *testing.T) {
	for _, tc := range []struct {
		name        string
		age         time.Duration
		activityAgo time.Duration // 0: none since creation
		maxLifetime *int32
		idleTimeout *int32
		taskRunning bool
		wantDeleted bool
	}{
		{name: "no limits", age: 24 * time.Hour},
		{name: "younger than its lifetime", age: 59 * time.Second, maxLifetime: ptr.To[int32](60)},
		{name: "as old as its lifetime", age: 60 * time.Second, maxLifetime: ptr.To[int32](60), wantDeleted: true},
		{name: "past its lifetime, busy", age: time.Hour, maxLifetime: ptr.To[int32](60), taskRunning: true},
		{name: "idle, not for long", age: 29 * time.Second, idleTimeout: ptr.To[int32](30)},
		{name: "idle past its timeout", age: 31 * time.Second, idleTimeout: ptr.To[int32](30), wantDeleted: true},
		{name: "old, but active lately", age: time.Hour, activityAgo: 10 * time.Second, idleTimeout: ptr.To[int32](30)},
		{name: "old, last active past the timeout", age: time.Hour, activityAgo: 31 * time.Second, idleTimeout: ptr.To[int32](30), wantDeleted: true},
		{name: "idle past its timeout, busy", age: time.Hour, idleTimeout: ptr.To[int32](30), taskRunning: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			now := h.clock.Now()
			sandbox := &arlv1alpha1.Sandbox{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb", UID: "uid-sb", CreationTimestamp: metav1.NewTime(now.Add(-tc.age))},
				Spec:       arlv1alpha1.SandboxSpec{PoolRef: "p", MaxLifetimeSeconds: tc.maxLifetime, IdleTimeoutSeconds: tc.idleTimeout},
				Status:     arlv1alpha1.SandboxStatus{Phase: arlv1alpha1.SandboxReady},
			}
			if tc.activityAgo > 0 {
				sandbox.Status.LastActivityTime = ptr.To(metav1.NewTime(now.Add(-tc.activityAgo)))
			}
			h.addSandbox(t, sandbox)
			if tc.taskRunning {
				task := &arlv1alpha1.Task{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "t"},
					Spec: arlv1alpha1.TaskSpec{SandboxRef: "sb"}, Status: arlv1alpha1.TaskStatus{State: arlv1alpha1.TaskRunning}}
				if _, err := h.cs.ArlV1alpha1().Tasks("ns").Create(context.Background(), task, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			h.c.expireSandboxes(context.Background())
			_, err := h.cs.ArlV1alpha1().Sandboxes("ns").Get(context.Background(), "sb", metav1.GetOptions{})
			if deleted := apierrors.IsNotFound(err); deleted != tc.wantDeleted {
				t.Fatalf("Sandbox deleted %v (%v), want %v", deleted, err, tc.wantDeleted)
			}
		})
	}
}

// TestSandboxExpiresOnTheClock: the lifecycle loop deletes a Sandbox when
// the clock reaches its lifetime, not before.
func TestSandboxExpiresOnTheClock(t *testing.T) {
	h := newHarness(t)
	sandbox := &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "sb", UID: "uid-sb", CreationTimestamp: metav1.NewTime(h.clock.Now())},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: "p", MaxLifetimeSeconds: ptr.To[int32](10)},
	}
	h.addSandbox(t, sandbox)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		h.c.runLifecycle(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	exists := func() bool {
		_, err := h.cs.ArlV1alpha1().Sandboxes("ns").Get(ctx, "sb", metav1.GetOptions{})
		return err == nil
	}
	// Each step wakes the loop once it waits on the clock again.
	for range 9 {
		h.waitFor(t, "the lifecycle loop to wait", h.clock.HasWaiters)
		h.clock.Step(lifecycleInterval)
	}
	h.waitFor(t, "the lifecycle loop to wait", h.clock.HasWaiters)
	if !exists() {
		t.Fatal("Sandbox deleted 9s into a lifetime of 10s")
	}
	h.clock.Step(lifecycleInterval)
	h.waitFor(t, "the Sandbox deleted at 10s", func() bool { return !exists() })
}

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
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage/names"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/registry/arl/sandbox"
	"github.com/arl-infra/arl/pkg/tracing"
)

// Binder gives new Sandboxes a pod and takes it back from deleted ones
// (package pool implements it).
type Binder interface {
	// Bind returns the status a new Sandbox starts with, and how to undo
	// the bind when the Sandbox is not stored after all.
	Bind(ctx context.Context, sandbox *arl.Sandbox) (arl.SandboxStatus, func(), error)
	// Bound reports a Sandbox created already bound, and how long its
	// create took (for its events and metrics).
	Bound(sandbox *arl.Sandbox, took time.Duration)
	// BindFailed reports a create that failed after its bind was tried.
	BindFailed(sandbox *arl.Sandbox, took time.Duration)
	// Release frees the pod of a deleted Sandbox.
	Release(ctx context.Context, sandbox *arl.Sandbox)
	// ReleaseWithDelete returns the context of a Sandbox delete, in which
	// the storage may free the pod in the delete's own transaction (see
	// pool.ReleaseSlot); done is called when the delete returns.
	ReleaseWithDelete(ctx context.Context) (_ context.Context, done func())
}

// releaseTimeout bounds how long a delete waits for its pod to be freed;
// what is not done by then is left to the pool manager.
const releaseTimeout = 30 * time.Second

// deferredClaimAttempts bounds the creates whose pod claim is written with
// the Sandbox; a claim lost to another replica costs the whole create, so
// after these the claim is written first.
const deferredClaimAttempts = 3

// Create binds a pod first, then stores the Sandbox with the bind's status,
// and the response already says Ready when the pool had an idle pod. Where
// the pool's runtime can (pool.ClaimSlot), the pod's claim is written in
// the Sandbox's own transaction: one write; otherwise two (the claim, then
// the Sandbox).
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	sb, ok := obj.(*arl.Sandbox)
	if !ok || r.binder == nil || len(options.DryRun) > 0 || len(r.CreateStrategy.Validate(ctx, obj)) > 0 {
		// Invalid objects fail in the store, with the usual 422, and claim nothing.
		return r.Store.Create(ctx, obj, createValidation, options)
	}
	// The pod's label names the Sandbox, so the name is fixed before the bind.
	if sb.Name == "" && sb.GenerateName != "" {
		sb.Name = names.SimpleNameGenerator.GenerateName(sb.GenerateName)
	}
	start := time.Now()
	ctx, span := tracing.Start(ctx, "arl.sandbox.bind")
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(attribute.String("arl.pool", sb.Spec.PoolRef))
	}
	for attempt := 1; ; attempt++ {
		bindCtx := ctx
		if attempt <= deferredClaimAttempts {
			bindCtx, _ = pool.WithClaimSlot(ctx)
		}
		out, err := r.bindAndStore(bindCtx, sb.DeepCopy(), createValidation, options)
		if errors.Is(err, pool.ErrConflict) && attempt <= deferredClaimAttempts {
			// Another replica claimed the pod first; nothing was stored.
			continue
		}
		if err != nil {
			r.binder.BindFailed(sb, time.Since(start))
			span.SetStatus(codes.Error, err.Error())
			return nil, err
		}
		created := out.(*arl.Sandbox)
		if created.Status.PodName != "" {
			r.binder.Bound(created, time.Since(start))
		}
		if span.IsRecording() {
			span.SetAttributes(attribute.String("arl.sandbox.phase", string(created.Status.Phase)), attribute.String("arl.pod", created.Status.PodName))
		}
		return out, nil
	}
}

// bindAndStore binds sb and stores it; pool.ErrConflict: the claim
// deferred to the Sandbox's transaction lost its pod, and nothing was
// stored.
func (r *REST) bindAndStore(ctx context.Context, sb *arl.Sandbox, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	status, undo, err := r.binder.Bind(ctx, sb)
	if err != nil {
		return nil, err
	}
	out, err := r.Store.Create(sandbox.WithInitialStatus(ctx, status), sb, createValidation, options)
	if err != nil && undo != nil && !errors.Is(err, pool.ErrConflict) {
		undo()
	}
	return out, err
}

// Delete deletes the Sandbox as the store does; a pod its pool reuses is
// reset first and its claim deleted with the Sandbox (Binder.ReleaseWithDelete).
func (r *REST) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions) (runtime.Object, bool, error) {
	if r.binder == nil || (options != nil && len(options.DryRun) > 0) {
		return r.Store.Delete(ctx, name, deleteValidation, options)
	}
	ctx, done := r.binder.ReleaseWithDelete(ctx)
	defer done()
	return r.Store.Delete(ctx, name, deleteValidation, options)
}

// DeleteCollection deletes the Sandboxes as the store does, each as Delete
// does.
func (r *REST) DeleteCollection(ctx context.Context, deleteValidation rest.ValidateObjectFunc, options *metav1.DeleteOptions, listOptions *metainternalversion.ListOptions) (runtime.Object, error) {
	if r.binder == nil || (options != nil && len(options.DryRun) > 0) {
		return r.Store.DeleteCollection(ctx, deleteValidation, options, listOptions)
	}
	ctx, done := r.binder.ReleaseWithDelete(ctx)
	defer done()
	return r.Store.DeleteCollection(ctx, deleteValidation, options, listOptions)
}

// afterDelete frees the pod of every deleted Sandbox, single or in a
// collection delete.
func (r *REST) afterDelete(obj runtime.Object, _ *metav1.DeleteOptions) {
	sb, ok := obj.(*arl.Sandbox)
	if !ok || r.binder == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	r.binder.Release(klog.NewContext(ctx, klog.Background().WithValues("sandbox", klog.KObj(sb))), sb)
}

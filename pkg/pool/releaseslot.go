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

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// ReleaseSlot carries a Sandbox delete's release of its pod from the
// Binder to the Sandbox's storage, as ClaimSlot carries a bind's claim:
// a pod its pool reuses (reusePolicy Reset) is reset while the Sandbox is
// still stored, so the pod's claim can go in the Sandbox's own delete
// transaction. A reused pod then costs ARL's etcd two writes a Sandbox
// (its create and its delete) instead of three.
type ReleaseSlot struct {
	prepare func(ctx context.Context, sandbox *arl.Sandbox) any
}

// DeferredReleaser is a Runtime whose release of a pod a Sandbox's
// storage can make in the Sandbox's delete transaction.
type DeferredReleaser interface {
	// DeferRelease returns the release for that storage to make (nil: the
	// pod must be released after the delete, the usual way).
	DeferRelease(pod *Pod) any
}

type releaseSlotKey struct{}

// WithReleaseSlot returns a context whose Sandbox delete asks prepare for
// the release to make with it.
func WithReleaseSlot(ctx context.Context, prepare func(context.Context, *arl.Sandbox) any) context.Context {
	return context.WithValue(ctx, releaseSlotKey{}, &ReleaseSlot{prepare: prepare})
}

// HasReleaseSlot says a Sandbox delete in ctx may release its pod in its
// own transaction (PrepareRelease).
func HasReleaseSlot(ctx context.Context) bool {
	_, ok := ctx.Value(releaseSlotKey{}).(*ReleaseSlot)
	return ok
}

// PrepareRelease is called by the Sandbox's storage once the delete of obj
// (the Sandbox as stored) is validated, before its transaction, at most
// once a delete: it returns the runtime's deferred release to make with
// the delete, or nil.
func PrepareRelease(ctx context.Context, obj runtime.Object) any {
	slot, ok := ctx.Value(releaseSlotKey{}).(*ReleaseSlot)
	sandbox, isSandbox := obj.(*arl.Sandbox)
	if !ok || !isSandbox {
		return nil
	}
	return slot.prepare(ctx, sandbox)
}

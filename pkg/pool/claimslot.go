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

import "context"

// ClaimSlot carries a bind's claim, unwritten, from Runtime.Claim to the
// storage of the Sandbox that takes the pod, which writes both in one
// transaction: a bind is then one write to ARL's etcd instead of two. A
// runtime whose claims live elsewhere (a pod's labels, a local file)
// writes its claim at once and leaves the slot empty; so does a Sandbox
// create whose context has no slot.
type ClaimSlot struct {
	// Claim is the runtime's claim for the Sandbox's storage to write;
	// nil: the claim, if any, is written already.
	Claim any
}

type claimSlotKey struct{}

// WithClaimSlot returns a context whose Runtime.Claim may defer its write
// to the slot.
func WithClaimSlot(ctx context.Context) (context.Context, *ClaimSlot) {
	slot := &ClaimSlot{}
	return context.WithValue(ctx, claimSlotKey{}, slot), slot
}

// withoutClaimSlot returns a context whose claims are written at once.
func withoutClaimSlot(ctx context.Context) context.Context {
	return context.WithValue(ctx, claimSlotKey{}, (*ClaimSlot)(nil))
}

// ClaimSlotFrom returns ctx's empty slot, or nil when the claim must be
// written at once (no slot, or one already holding a claim).
func ClaimSlotFrom(ctx context.Context) *ClaimSlot {
	if slot := slotOf(ctx); slot != nil && slot.Claim == nil {
		return slot
	}
	return nil
}

// DeferredClaim returns the claim ctx's slot holds, if any.
func DeferredClaim(ctx context.Context) any {
	if slot := slotOf(ctx); slot != nil {
		return slot.Claim
	}
	return nil
}

func slotOf(ctx context.Context) *ClaimSlot {
	slot, _ := ctx.Value(claimSlotKey{}).(*ClaimSlot)
	return slot
}

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

package agent

import (
	"context"
	"errors"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// SandboxMetadataKey carries the UID of the Sandbox a call is made for
// (see Reset in agent.proto).
const SandboxMetadataKey = "arl-sandbox"

// releasedKept bounds the Sandboxes a fence remembers: a pod serves one
// at a time, and a released Sandbox's calls come within seconds of its
// Reset, not after dozens of Sandboxes more.
const releasedKept = 64

// fence refuses the calls of Sandboxes that left the pod, and ends those
// in flight when one leaves: a Reset must leave nothing a Sandbox asked
// for (a queued Task, a file upload) to start or write afterwards, in the
// next Sandbox's pod.
type fence struct {
	mu       sync.Mutex
	released map[string]bool
	order    []string // released, oldest first
	inFlight map[string]map[*fencedCall]struct{}
}

type fencedCall struct {
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// errReleased is the cause of a call ended by its Sandbox's release.
var errReleased = errors.New("released")

// released is the error of a call of a released Sandbox.
func released(sandbox string) error {
	return status.Errorf(codes.FailedPrecondition, "Sandbox %s has left this pod", sandbox)
}

// enter admits a call: ctx's Sandbox, if any, must not have been released.
// The call's context is cancelled if its Sandbox is released while it
// runs; leave must be called when the call returns.
func (f *fence) enter(ctx context.Context) (_ context.Context, leave func(), _ error) {
	sandbox := sandboxOf(ctx)
	if sandbox == "" {
		return ctx, func() {}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.released[sandbox] {
		return nil, nil, released(sandbox)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	call := &fencedCall{cancel: cancel, done: make(chan struct{})}
	if f.inFlight == nil {
		f.inFlight = map[string]map[*fencedCall]struct{}{}
	}
	if f.inFlight[sandbox] == nil {
		f.inFlight[sandbox] = map[*fencedCall]struct{}{}
	}
	f.inFlight[sandbox][call] = struct{}{}
	return ctx, func() {
		f.mu.Lock()
		delete(f.inFlight[sandbox], call)
		if len(f.inFlight[sandbox]) == 0 {
			delete(f.inFlight, sandbox)
		}
		f.mu.Unlock()
		cancel(nil)
		close(call.done)
	}, nil
}

// outcome is a fenced call's error: one its release ended says so.
func outcome(ctx context.Context, err error) error {
	if err != nil && errors.Is(context.Cause(ctx), errReleased) {
		return released(sandboxOf(ctx))
	}
	return err
}

// release refuses the Sandbox's later calls, cancels those in flight and
// waits until they have returned (or ctx ends).
func (f *fence) release(ctx context.Context, sandbox string) error {
	f.mu.Lock()
	if f.released == nil {
		f.released = map[string]bool{}
	}
	if !f.released[sandbox] {
		f.released[sandbox] = true
		f.order = append(f.order, sandbox)
		if len(f.order) > releasedKept {
			delete(f.released, f.order[0])
			f.order = f.order[1:]
		}
	}
	calls := make([]*fencedCall, 0, len(f.inFlight[sandbox]))
	for call := range f.inFlight[sandbox] {
		calls = append(calls, call)
	}
	f.mu.Unlock()
	for _, call := range calls {
		call.cancel(errReleased)
	}
	for _, call := range calls {
		select {
		case <-call.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func sandboxOf(ctx context.Context) string {
	if values := metadata.ValueFromIncomingContext(ctx, SandboxMetadataKey); len(values) > 0 {
		return values[0]
	}
	return ""
}

func (f *fence) unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, leave, err := f.enter(ctx)
	if err != nil {
		return nil, err
	}
	defer leave()
	resp, err := handler(ctx, req)
	return resp, outcome(ctx, err)
}

func (f *fence) stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, leave, err := f.enter(ss.Context())
	if err != nil {
		return err
	}
	defer leave()
	return outcome(ctx, handler(srv, fencedStream{ServerStream: ss, ctx: ctx}))
}

// fencedStream is a stream whose context the fence can cancel.
type fencedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fencedStream) Context() context.Context { return s.ctx }

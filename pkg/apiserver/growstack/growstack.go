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

// Package growstack grows a request goroutine's stack once, at the top of
// the handler chain, to the size the chain ends up needing.
//
// Every request runs on a fresh goroutine with a small stack. The generic
// apiserver's filter chain is deep: a request to sandboxes/exec grew its
// stack three times on the way down (in the tracing filter, the timeout
// filter and the gRPC stream to the agent), each time copying everything
// above it, which was 12 % of arl-apiserver's CPU under exec load. One
// growth while the stack is still shallow copies almost nothing.
package growstack

import "net/http"

// frameBytes is the frame growStack asks for. The runtime doubles a stack
// until the frame fits, so the stack becomes 64 KiB: what the deepest
// request path (exec, through every filter and into gRPC) uses, measured
// by the growths it no longer shows in a CPU profile. The garbage
// collector shrinks the stacks of long-running requests (watches) that use
// less than a quarter of it.
const frameBytes = 32 << 10

// index is read by growStack so that its frame cannot be optimised away.
var index = 0

// WithGrownStack runs handler on a stack already grown to its full size.
func WithGrownStack(handler http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		growStack()
		handler.ServeHTTP(w, r)
	})
}

// growStack's frame makes the runtime grow the stack before it runs;
// returning leaves the grown stack to the caller.
//
//go:noinline
func growStack() byte {
	var frame [frameBytes]byte
	return frame[index]
}

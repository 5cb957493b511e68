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
	"sync"
	"time"
)

// Refills wait for a burst of binds to pass. Starting a pod costs the node
// far more than a bind (containers, volumes, probes, a dozen API writes),
// and on a busy node the binds of a burst then wait behind the refills of
// its first binds. While a pool still has an idle Ready pod and nobody
// waits for one, its refill starts once binds have paused for RefillQuiet,
// or RefillMaxDelay after the pool first fell short, whichever comes first.
const (
	defaultRefillQuiet    = 300 * time.Millisecond
	defaultRefillMaxDelay = 3 * time.Second
)

// shortfalls remembers since when each pool has had fewer idle pods than
// it should (the leader's state; a new leader starts afresh).
type shortfalls struct {
	mu    sync.Mutex
	since map[string]time.Time
}

// refillWait is how long the pool's refill should wait; 0: start it now.
func (c *Controller) refillWait(key string, pods *poolPods, unbound int, now time.Time) time.Duration {
	since := c.shortfalls.begin(key, now)
	if unbound > 0 || c.cfg.RefillQuiet <= 0 {
		return 0
	}
	ready := 0
	for _, p := range pods.idle {
		if p.Ready {
			ready++
		}
	}
	if ready == 0 {
		return 0
	}
	var lastBind time.Time
	for _, p := range pods.allocated {
		if p.ClaimedAt.After(lastBind) {
			lastBind = p.ClaimedAt
		}
	}
	quiet := c.cfg.RefillQuiet - now.Sub(lastBind)
	deadline := c.cfg.RefillMaxDelay - now.Sub(since)
	if quiet <= 0 || deadline <= 0 {
		return 0
	}
	return min(quiet, deadline)
}

// begin records that the pool falls short from now on, unless it already
// did; it returns since when.
func (s *shortfalls) begin(key string, now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.since == nil {
		s.since = map[string]time.Time{}
	}
	if t, ok := s.since[key]; ok {
		return t
	}
	s.since[key] = now
	return now
}

// end records that the pool has what it should.
func (s *shortfalls) end(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.since, key)
}

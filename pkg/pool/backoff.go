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
	"time"
)

// Backoff between pod failures of one pool: 5s, 10s, 20s ... up to 5m.
const (
	failureBackoffBase = 5 * time.Second
	failureBackoffMax  = 5 * time.Minute
)

// failureBackoff slows a pool whose pods keep failing, so a broken template
// (an image that does not exist, a command that exits) does not churn.
type failureBackoff struct {
	failures int
	until    time.Time
	reason   string
	message  string
}

// recordFailure notes a failed pod of poolKey and returns the backoff state.
func (c *Controller) recordFailure(poolKey, reason, message string, now time.Time) *failureBackoff {
	c.failuresMu.Lock()
	defer c.failuresMu.Unlock()
	b := c.failures[poolKey]
	if b == nil {
		b = &failureBackoff{}
		c.failures[poolKey] = b
	}
	b.failures++
	delay := failureBackoffBase << min(b.failures-1, 10)
	b.until = now.Add(min(delay, failureBackoffMax))
	b.reason, b.message = reason, message
	return b
}

// clearFailures forgets a pool's failures once one of its pods is Ready.
func (c *Controller) clearFailures(poolKey string) {
	c.failuresMu.Lock()
	defer c.failuresMu.Unlock()
	delete(c.failures, poolKey)
}

// backoff returns a copy of the pool's backoff state, if it has one.
func (c *Controller) backoff(poolKey string) (failureBackoff, bool) {
	c.failuresMu.Lock()
	defer c.failuresMu.Unlock()
	b, ok := c.failures[poolKey]
	if !ok {
		return failureBackoff{}, false
	}
	return *b, true
}

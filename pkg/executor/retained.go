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

package executor

import (
	"container/list"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// retainedOutputs keeps the log windows of the Tasks this replica ran for
// a while after they finish, so tasks/{name}/log?raw=true can serve a
// finished Task's exact bytes (its status holds UTF-8 text only). They
// are bounded in bytes across Tasks and in time: the oldest go first.
type retainedOutputs struct {
	maxBytes int
	ttl      time.Duration

	mu    sync.Mutex
	bytes int
	byKey map[string]*list.Element // of *retainedOutput
	order *list.List               // oldest first
}

type retainedOutput struct {
	key   string
	uid   types.UID
	out   *output
	size  int
	until time.Time
}

// retainedOverhead is what an entry costs besides its window: a Task that
// printed nothing is not free to keep.
const retainedOverhead = 1 << 10

func newRetainedOutputs(maxBytes int, ttl time.Duration) *retainedOutputs {
	return &retainedOutputs{maxBytes: maxBytes, ttl: ttl, byKey: map[string]*list.Element{}, order: list.New()}
}

// add keeps a finished Task's output (replacing any of that key), and
// drops the oldest ones past the budget.
func (c *retainedOutputs) add(key string, uid types.UID, out *output, now time.Time) {
	size := out.size() + retainedOverhead
	if size > c.maxBytes || c.ttl <= 0 {
		out.release()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(key)
	c.byKey[key] = c.order.PushBack(&retainedOutput{key: key, uid: uid, out: out, size: size, until: now.Add(c.ttl)})
	c.bytes += size
	for c.bytes > c.maxBytes {
		c.removeLocked(c.order.Front().Value.(*retainedOutput).key)
	}
}

// get returns the output of the Task of that key and UID, if kept.
func (c *retainedOutputs) get(key string, uid types.UID, now time.Time) (*output, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	r := el.Value.(*retainedOutput)
	if r.uid != uid || !now.Before(r.until) {
		return nil, false
	}
	return r.out, true
}

// remove drops the output of a Task (it was deleted).
func (c *retainedOutputs) remove(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(key)
}

// expire drops the outputs past their time.
func (c *retainedOutputs) expire(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.order.Front(); el != nil && !now.Before(el.Value.(*retainedOutput).until); el = c.order.Front() {
		c.removeLocked(el.Value.(*retainedOutput).key)
	}
}

func (c *retainedOutputs) removeLocked(key string) {
	el, ok := c.byKey[key]
	if !ok {
		return
	}
	r := c.order.Remove(el).(*retainedOutput)
	delete(c.byKey, key)
	c.bytes -= r.size
	r.out.release()
}

// usage is the bytes kept and the number of Tasks.
func (c *retainedOutputs) usage() (bytes, tasks int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes, c.order.Len()
}

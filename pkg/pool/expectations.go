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

// expectationTTL bounds how long a created pod that never shows up counts.
const expectationTTL = 5 * time.Minute

// expectations remembers pods created but not yet seen in the runtime's
// cache, so a sync that runs before the cache catches up does not create
// them again.
type expectations struct {
	mu      sync.Mutex
	created map[string]map[string]time.Time // pool key -> pod key -> created at
}

func newExpectations() *expectations {
	return &expectations{created: map[string]map[string]time.Time{}}
}

// expect records a pod the pool created.
func (e *expectations) expect(poolKey, podKey string, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.created[poolKey] == nil {
		e.created[poolKey] = map[string]time.Time{}
	}
	e.created[poolKey][podKey] = now
}

// observe forgets a pod the cache now has (or that is gone).
func (e *expectations) observe(poolKey, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.created[poolKey], podKey)
	if len(e.created[poolKey]) == 0 {
		delete(e.created, poolKey)
	}
}

// pending counts a pool's created pods the cache has not shown yet.
func (e *expectations) pending(poolKey string, now time.Time) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	for podKey, at := range e.created[poolKey] {
		if now.Sub(at) > expectationTTL {
			delete(e.created[poolKey], podKey)
		}
	}
	return len(e.created[poolKey])
}

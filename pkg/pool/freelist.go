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
	"math/rand/v2"
	"sync"
)

// FreeList holds, per pool, the pods that can be bound now.
// The runtime's pod events keep it current on every replica; a pod taken
// from it is only a candidate until Runtime.Claim succeeds.
type FreeList struct {
	mu sync.Mutex
	// pools maps a pool key to its bindable pod keys, in no order (Take
	// picks at random); members locates each of them. Every replica sees
	// every bind's pod leave the list: at 10,000 idle pods, finding it by a
	// scan of its pool's keys was a tenth of each replica's CPU in a burst
	// of 1,000 binds (make test-scale).
	pools   map[string][]string
	members map[string]place // pod key -> where it is in pools
}

// place is a pod key's pool and index in that pool's keys.
type place struct {
	pool  string
	index int
}

// NewFreeList returns an empty free list.
func NewFreeList() *FreeList {
	return &FreeList{pools: map[string][]string{}, members: map[string]place{}}
}

// Observe records a pod's latest state: bindable pods join their pool's
// list, others leave it. A nil pod (gone) leaves too.
func (f *FreeList) Observe(key string, pod *Pod) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if pod != nil && pod.Bindable() {
		if _, ok := f.members[key]; !ok {
			poolKey := pod.PoolKey()
			f.members[key] = place{pool: poolKey, index: len(f.pools[poolKey])}
			f.pools[poolKey] = append(f.pools[poolKey], key)
		}
		return
	}
	if at, ok := f.members[key]; ok {
		f.removeLocked(at)
	}
}

// Take removes and returns a random candidate of a pool, or "" when none.
// Every replica sees the same pods in the same order: replicas that all
// took the oldest raced for the same pod on most binds of a burst (4-6
// failed claims in a burst of 10 on the test cluster's 2 replicas, 1-4
// with random candidates).
func (f *FreeList) Take(poolKey string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := f.pools[poolKey]
	if len(keys) == 0 {
		return ""
	}
	key := keys[rand.IntN(len(keys))]
	f.removeLocked(f.members[key])
	return key
}

// Len is the number of candidates of a pool.
func (f *FreeList) Len(poolKey string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pools[poolKey])
}

// removeLocked drops the candidate at a place: the pool's last key takes
// its index.
func (f *FreeList) removeLocked(at place) {
	keys := f.pools[at.pool]
	last := len(keys) - 1
	delete(f.members, keys[at.index])
	if at.index != last {
		keys[at.index] = keys[last]
		f.members[keys[at.index]] = at
	}
	keys[last] = ""
	if last == 0 {
		delete(f.pools, at.pool)
		return
	}
	f.pools[at.pool] = keys[:last]
}

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

	"k8s.io/apimachinery/pkg/util/sets"
)

// defaultSyncBatchPeriod is how long a pool's pod and Sandbox events wait
// to be synced together. A bind brings several of them (the Sandbox, the
// claimed pod, its replacement created and Ready, the Sandbox and pod
// deleted later) and a sync reads every pod and Sandbox of the pool:
// at 10,000 of each a sync per event took most of the leader's CPU (make
// test-scale). With 250 ms the leader still synced 4 times a second at
// 5 binds a second, ~30 ms of CPU each at that scale. Binds do not wait
// for a sync (the free list follows pod events); refills wait for a quiet
// moment anyway (defaultRefillQuiet). Kubernetes' Job controller batches
// its pod events the same way, for a second (syncJobBatchPeriod).
const defaultSyncBatchPeriod = time.Second

// enqueueEvent syncs a pool after a pod or Sandbox event: within
// SyncBatchPeriod, unless a Sandbox of the pool waits for a pod (a pod the
// event made Ready is its to take now).
func (c *Controller) enqueueEvent(poolKey string) {
	if c.cfg.SyncBatchPeriod <= 0 || c.waiting.has(poolKey) {
		c.enqueue(poolKey)
		return
	}
	if q := c.leadingQueue(); q != nil {
		q.AddAfter(poolKey, c.cfg.SyncBatchPeriod)
	}
}

// waitingPools are the pools whose last sync left Sandboxes waiting for a
// pod (the leader's state).
type waitingPools struct {
	mu   sync.Mutex
	keys sets.Set[string]
}

func (w *waitingPools) has(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.keys.Has(key)
}

// set records whether the pool has Sandboxes waiting.
func (w *waitingPools) set(key string, waiting bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !waiting {
		w.keys.Delete(key)
		return
	}
	if w.keys == nil {
		w.keys = sets.New[string]()
	}
	w.keys.Insert(key)
}

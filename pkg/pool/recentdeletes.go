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

	"k8s.io/client-go/tools/cache"
)

// recentDeletes remembers when Sandboxes were deleted, for orphanGrace. The
// replica that deleted one is releasing its pod meanwhile (a reset, the
// labels); the pool manager must not reclaim that pod under it: its reset,
// come after the pod was bound again, would wipe the next Sandbox, and its
// failed release delete that Sandbox's pod.
type recentDeletes struct {
	mu    sync.Mutex
	at    map[string]time.Time // Sandbox key -> when its deletion was seen
	swept time.Time
}

func (r *recentDeletes) saw(obj interface{}, now time.Time) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.at == nil {
		r.at = map[string]time.Time{}
	}
	// Every replica remembers (any may lead next): each forgets on its own.
	if now.Sub(r.swept) > orphanGrace {
		for k, at := range r.at {
			if now.Sub(at) > orphanGrace {
				delete(r.at, k)
			}
		}
		r.swept = now
	}
	r.at[key] = now
}

// when returns when the Sandbox namespace/name was last seen deleted.
func (r *recentDeletes) when(namespace, name string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.at[namespace+"/"+name]
	return at, ok
}

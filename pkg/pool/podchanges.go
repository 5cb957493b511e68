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

	"k8s.io/apimachinery/pkg/types"
)

// syncedFields is what a pool's sync reads of a pod. Most pod events
// change none of it: a kubelet's status writes while the pod starts (its
// node, its IP), the label patch that follows a claim the pool has seen
// already. A sync reads every pod of its pool, and syncs triggered by
// such events were most of the leader's CPU at 10,000 pods
// (make test-scale).
type syncedFields struct {
	uid            types.UID
	pool           string
	state          PodState
	sandbox        string
	templateHash   string
	ready          bool
	failed         bool
	failureReason  string
	failureMessage string
	terminating    bool
	resized        bool
	claimedAt      time.Time
}

func syncedFieldsOf(p *Pod) syncedFields {
	return syncedFields{
		uid: p.UID, pool: p.Pool, state: p.State, sandbox: p.Sandbox, templateHash: p.TemplateHash,
		ready: p.Ready, failed: p.Failed, failureReason: p.FailureReason, failureMessage: p.FailureMessage,
		terminating: p.Terminating, resized: p.Resized, claimedAt: p.ClaimedAt,
	}
}

// podChanges remembers each pod's syncedFields, by pod key.
type podChanges struct {
	mu   sync.Mutex
	seen map[string]syncedFields
}

// changed records the pod's latest state (nil: gone) and says whether its
// pool's sync could act otherwise than at the last one: a new pod, a pod
// gone, or a change to what the sync reads.
func (c *podChanges) changed(key string, p *Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p == nil {
		delete(c.seen, key)
		return true
	}
	now := syncedFieldsOf(p)
	before, ok := c.seen[key]
	if c.seen == nil {
		c.seen = map[string]syncedFields{}
	}
	c.seen[key] = now
	return !ok || before != now
}

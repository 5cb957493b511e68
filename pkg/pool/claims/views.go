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

package claims

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	"github.com/arl-infra/arl/pkg/pool"
)

// claimedViews remembers each claimed pod's view for the pod and claim it
// was made from. A pool's sync reads every pod of the pool, thousands of
// them claimed: a view is made once per change, not once per sync.
type claimedViews struct {
	mu    sync.Mutex
	views map[types.UID]claimedView
}

type claimedView struct {
	pod   *pool.Pod // the wrapped runtime's pod, shared while unchanged
	claim Claim
	view  *pool.Pod
}

// get returns build(p, c), built again only if p or c changed.
func (v *claimedViews) get(p *pool.Pod, c Claim, build func(*pool.Pod, Claim) *pool.Pod) *pool.Pod {
	v.mu.Lock()
	defer v.mu.Unlock()
	if cached, ok := v.views[p.UID]; ok && cached.pod == p && cached.claim == c {
		return cached.view
	}
	if v.views == nil {
		v.views = map[types.UID]claimedView{}
	}
	view := build(p, c)
	v.views[p.UID] = claimedView{pod: p, claim: c, view: view}
	return view
}

// forget drops a deleted pod's view.
func (v *claimedViews) forget(uid types.UID) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.views, uid)
}

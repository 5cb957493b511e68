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
	"slices"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// recentBindsKept is how many binds per pool the status summarizes.
const recentBindsKept = 100

// waitedKept bounds the Sandboxes the pool manager bound whose bind the
// Sandbox informer has not shown yet.
const waitedKept = 1000

// bindRecord is one bind as the pool's status summarizes it.
type bindRecord struct {
	took   time.Duration
	waited bool
}

// recentBinds keeps each pool's last binds, as every replica's Sandbox
// informer shows them (a bind on any replica writes the Sandbox's
// status.bindDuration), for the pool's status.recentBinds.
type recentBinds struct {
	mu    sync.Mutex
	pools map[string][]bindRecord // pool key → the last binds, oldest first
	// waited are the Sandboxes this replica bound after they waited; the
	// informer's event of their bind says "waited" for them.
	waited      map[types.UID]struct{}
	waitedOrder []types.UID
}

func newRecentBinds() *recentBinds {
	return &recentBinds{pools: map[string][]bindRecord{}, waited: map[types.UID]struct{}{}}
}

// expectWaited marks a Sandbox the pool manager is binding after it waited.
func (r *recentBinds) expectWaited(uid types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waitedOrder) == waitedKept {
		delete(r.waited, r.waitedOrder[0])
		r.waitedOrder = r.waitedOrder[1:]
	}
	r.waited[uid] = struct{}{}
	r.waitedOrder = append(r.waitedOrder, uid)
}

// bound says whether a Sandbox shows a bind: Ready with a bindDuration.
func bound(sb *arlv1alpha1.Sandbox) bool {
	return sb != nil && sb.Status.Phase == arlv1alpha1.SandboxReady && sb.Status.BindDuration != nil
}

// observe records the bind an informer event shows (old: the Sandbox
// before the event, nil for an add); it reports whether it recorded one.
func (r *recentBinds) observe(old, sb *arlv1alpha1.Sandbox) bool {
	if !bound(sb) || bound(old) {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, waited := r.waited[sb.UID]
	delete(r.waited, sb.UID)
	key := sb.Namespace + "/" + sb.Spec.PoolRef
	binds := append(r.pools[key], bindRecord{took: sb.Status.BindDuration.Duration, waited: waited})
	if len(binds) > recentBindsKept {
		binds = binds[len(binds)-recentBindsKept:]
	}
	r.pools[key] = binds
	return true
}

// forget drops a deleted pool's binds.
func (r *recentBinds) forget(poolKey string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.pools, poolKey)
}

// summary is a pool's status.recentBinds; nil before its first bind.
func (r *recentBinds) summary(poolKey string) *arlv1alpha1.WarmPoolBinds {
	r.mu.Lock()
	binds := slices.Clone(r.pools[poolKey])
	r.mu.Unlock()
	if len(binds) == 0 {
		return nil
	}
	out := &arlv1alpha1.WarmPoolBinds{Count: int32(len(binds))}
	took := make([]time.Duration, len(binds))
	for i, b := range binds {
		took[i] = b.took
		if b.waited {
			out.Waited++
		}
	}
	slices.Sort(took)
	out.P50 = metav1.Duration{Duration: percentile(took, 50)}
	out.P99 = metav1.Duration{Duration: percentile(took, 99)}
	return out
}

// percentile is the nearest-rank percentile p of sorted, not empty.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n), at least 1
	return sorted[max(rank, 1)-1]
}

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
	"context"
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// StoreCheck says whether ARL's store is the one this installation wrote
// (package storeguard). The pool asks it before acting on the absence of
// an object: a store that came back empty or rewound lacks everything.
type StoreCheck interface {
	// Err is nil while the store checks out.
	Err() error
	// Verify checks the store now.
	Verify(ctx context.Context) error
}

// deletionMemory is how long a seen pool deletion is remembered once acted
// on: long enough for pods created just before it to show up and go too.
const deletionMemory = time.Hour

// deletionsSeen remembers the objects whose deletion this replica saw (a
// watch DELETE event of the object itself), for memory. Every replica's
// informers see it, so a new leader knows what its predecessor saw.
type deletionsSeen struct {
	memory time.Duration
	mu     sync.Mutex
	at     map[string]time.Time // key -> when its deletion was seen
	swept  time.Time
}

func (d *deletionsSeen) saw(key string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.at == nil {
		d.at = map[string]time.Time{}
	}
	// Every replica remembers, leader or not: each forgets on its own.
	if now.Sub(d.swept) > d.memory {
		d.expireLocked(now)
		d.swept = now
	}
	d.at[key] = now
}

// forget: an object of that name exists (again).
func (d *deletionsSeen) forget(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.at, key)
}

func (d *deletionsSeen) seen(key string) bool {
	_, ok := d.when(key)
	return ok
}

// when returns when the deletion of key was last seen.
func (d *deletionsSeen) when(key string) (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	at, ok := d.at[key]
	return at, ok
}

func (d *deletionsSeen) expire(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expireLocked(now)
}

func (d *deletionsSeen) expireLocked(now time.Time) {
	for key, at := range d.at {
		if now.Sub(at) > d.memory {
			delete(d.at, key)
		}
	}
}

// observePoolDeleted records a pool's deletion when the informer saw it
// happen. A tombstone (cache.DeletedFinalStateUnknown) is not seeing it: it
// comes from a relist that no longer has the pool, which is also what a
// store that came back empty or rewound looks like.
func (c *Controller) observePoolDeleted(obj interface{}) {
	pool, ok := obj.(*arlv1alpha1.WarmPool)
	if !ok {
		if tombstone, isTombstone := obj.(cache.DeletedFinalStateUnknown); isTombstone {
			klog.InfoS("A WarmPool left the cache without a deletion event; its pods are kept until its deletion is seen",
				"pool", tombstone.Key)
		}
		return
	}
	c.deletions.saw(pool.Namespace+"/"+pool.Name, c.now())
}

// missingPoolAction is what the manager does with the pods of a pool its
// cache lacks.
type missingPoolAction int

const (
	// keepPods: the pool's deletion was not seen; an administrator decides
	// (kubectl delete pods -l arl.infra.io/pool=NAME).
	keepPods missingPoolAction = iota
	// deletePods: the pool was deleted, in a store that checks out.
	deletePods
	// retryLater: the pool was deleted, but the store cannot be vouched for now.
	retryLater
)

// decideMissingPool: pods go only when their pool's deletion was seen and
// the store is, right now, the one this installation wrote.
func decideMissingPool(deletionSeen bool, storeErr error) missingPoolAction {
	switch {
	case !deletionSeen:
		return keepPods
	case storeErr != nil:
		return retryLater
	}
	return deletePods
}

// verifyStore checks the store now; without a StoreCheck it always passes.
func (c *Controller) verifyStore(ctx context.Context) error {
	if c.cfg.Store == nil {
		return nil
	}
	return c.cfg.Store.Verify(ctx)
}

// storeErr is the store's last verdict; nil without a StoreCheck.
func (c *Controller) storeErr() error {
	if c.cfg.Store == nil {
		return nil
	}
	return c.cfg.Store.Err()
}

// orphanLogInterval bounds how often kept orphans are reported per pool.
const orphanLogInterval = 10 * time.Minute

func (c *Controller) reportKeptOrphans(ctx context.Context, namespace, name string, pods []*Pod) {
	if len(pods) == 0 {
		return
	}
	key := namespace + "/" + name
	c.orphansMu.Lock()
	last, ok := c.orphansLogged[key]
	now := c.now()
	if ok && now.Sub(last) < orphanLogInterval {
		c.orphansMu.Unlock()
		return
	}
	c.orphansLogged[key] = now
	c.orphansMu.Unlock()
	klog.FromContext(ctx).Error(nil, "Keeping the pods of a WarmPool missing from ARL's store: its deletion was not seen "+
		"(the store may have lost it). Delete them if the pool is really gone",
		"pool", key, "pods", len(pods), "command", "kubectl delete pods -n "+namespace+" -l "+arl.LabelPool+"="+name)
}

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
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/pool"
)

// labelAfter is how long a claim whose pod's labels disagree is left to
// the replica that made it before any replica fixes them (after a crash).
const labelAfter = 5 * time.Second

// labelDelay holds a bind's label patch back while the burst it may belong
// to is still binding: the patch costs kube-apiserver, etcd and every pod
// watcher CPU on the node the binds need.
const labelDelay = 250 * time.Millisecond

// checkLabels queues the pod when its labels disagree with an older claim.
func (r *Runtime) checkLabels(p *pool.Pod) {
	if c, ok := r.ledger.Get(p.UID); ok && !labelled(p, c) && r.clock.Since(c.ClaimedAt) > labelAfter {
		r.labels.Add(p.UID)
	}
}

// labelled says the pod's labels show its claim (a deletion hold needs none).
func labelled(p *pool.Pod, c Claim) bool {
	return c.Sandbox == "" || (p.State == pool.PodAllocated && p.Sandbox == c.Sandbox)
}

// labelWorkers patch pods' labels at once. A patch waits on
// kube-apiserver, not on this server: while the pool refills it took
// 350 ms on average (make test-scale), so 4 workers a replica labelled a
// burst of 1,000 binds 21 s late. With 16, patches took 580 ms and the
// labels followed that burst 9 s late, 2 s after steady binds (18 s with
// 4). The queue hands a pod to one worker at a time.
const labelWorkers = 16

func (r *Runtime) runLabeler(ctx context.Context) {
	go func() {
		<-ctx.Done()
		r.labels.ShutDown()
	}()
	for range labelWorkers - 1 {
		go wait.UntilWithContext(ctx, r.labelAll, time.Second)
	}
	wait.UntilWithContext(ctx, r.labelAll, time.Second)
}

func (r *Runtime) labelAll(ctx context.Context) {
	for r.labelNext(ctx) {
	}
}

func (r *Runtime) labelNext(ctx context.Context) bool {
	uid, quit := r.labels.Get()
	if quit {
		return false
	}
	defer r.labels.Done(uid)
	if err := r.label(ctx, uid); err != nil {
		klog.FromContext(ctx).V(2).Info("Labelling a claimed pod failed; retrying", "uid", uid, "err", err)
		r.labels.AddRateLimited(uid)
		return true
	}
	r.labels.Forget(uid)
	return true
}

// label patches the pod's labels to its claim (the pod's version as the
// precondition: a conflict is read again and retried).
func (r *Runtime) label(ctx context.Context, uid types.UID) error {
	c, ok := r.ledger.Get(uid)
	if !ok || c.Sandbox == "" {
		return nil
	}
	p, ok := r.inner.Get(c.Namespace, c.Pod)
	if !ok || p.UID != uid || labelled(p, c) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// ErrConflict: the cache has not caught up with the pod's version yet.
	_, err := r.inner.Claim(ctx, p, c.Sandbox)
	return err
}

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

package replicas

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// leaseName is the pool manager's leader-election Lease.
const leaseName = "arl-pool-manager"

// RunLeaderElected leads while it holds the Lease, and tries again after
// losing it, until ctx ends.
func RunLeaderElected(ctx context.Context, kubeClient kubernetes.Interface, namespace, identity string, lead func(context.Context)) {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: leaseName, Namespace: namespace},
		Client:     kubeClient.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	lead = oneTermAtATime(lead)
	for ctx.Err() == nil {
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
			ReleaseOnCancel: true,
			Name:            leaseName,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: lead,
				OnStoppedLeading: func() { klog.InfoS("Stopped leading the pool manager", "identity", identity) },
			},
		})
	}
}

// oneTermAtATime runs lead for one term at a time. RunOrDie cancels a lost
// term's context and returns without waiting for OnStartedLeading, so the
// next term could start while the last one still stops; the pool manager
// then ran two terms at once and the old one, stopping, cleared the new
// one's queue: the Lease stayed held, renewed, by a replica that managed no
// pool (seen after a kube-apiserver restart).
func oneTermAtATime(lead func(context.Context)) func(context.Context) {
	var term sync.Mutex
	return func(ctx context.Context) {
		term.Lock()
		defer term.Unlock()
		if ctx.Err() != nil {
			return // lost while the last term stopped
		}
		lead(ctx)
	}
}

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

// Package replicas is how arl-apiserver replicas know of each other: each
// renews a runner Lease of its own (the Tasks it runs name it, and the
// Lease says where it serves), and one, elected, manages pools.
package replicas

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
)

// A replica proves it is alive by renewing a Lease of its own; the Tasks it
// runs name it (status.runner), so the others can tell when it is gone.
const (
	runnerLeaseDuration = 20 * time.Second
	runnerLeaseRenew    = 5 * time.Second
)

// peerAddressAnnotation, on a runner Lease, is the host:port its replica
// serves on: the others ask it for the output of the Tasks it runs
// (package peers).
const peerAddressAnnotation = "arl.infra.io/peer-address"

// NewRunnerLeases returns the runner Leases in namespace, this replica's
// named by identity and announcing address (host:port, "" for none).
func NewRunnerLeases(client kubernetes.Interface, namespace, identity, address string) *RunnerLeases {
	return &RunnerLeases{client: client, namespace: namespace, identity: identity, address: address}
}

func runnerLeaseName(identity string) string {
	sum := sha256.Sum256([]byte(identity))
	return "arl-runner-" + hex.EncodeToString(sum[:8])
}

// RunnerLeases keeps this replica's Lease and answers who else is alive,
// and where it serves.
type RunnerLeases struct {
	client    kubernetes.Interface
	namespace string
	identity  string
	// address is where this replica serves ("" when unknown: no POD_IP).
	address string

	mu sync.Mutex
	// renewingSince is when this replica's own renewals last started
	// succeeding (zero while they fail). A kube-apiserver outage stops every
	// replica's renewals alike, so another's Lease is judged only after a
	// whole Lease duration of our own renewals working.
	renewingSince time.Time
}

func (r *RunnerLeases) renewed(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil:
		r.renewingSince = time.Time{}
	case r.renewingSince.IsZero():
		r.renewingSince = time.Now()
	}
}

// judging says whether this replica has renewed its own Lease long enough
// to tell another's lapse from an outage of its own.
func (r *RunnerLeases) judging() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.renewingSince.IsZero() && time.Since(r.renewingSince) >= runnerLeaseDuration
}

// Keep creates and renews this replica's Lease until ctx ends, then deletes it.
func (r *RunnerLeases) Keep(ctx context.Context) {
	leases := r.client.CoordinationV1().Leases(r.namespace)
	name := runnerLeaseName(r.identity)
	ticker := time.NewTicker(runnerLeaseRenew)
	defer ticker.Stop()
	for {
		now := metav1.NewMicroTime(time.Now())
		lease, err := leases.Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = leases.Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/component": "arl-runner"},
					Annotations: r.annotations()},
				Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(r.identity), RenewTime: &now,
					LeaseDurationSeconds: ptr.To(int32(runnerLeaseDuration / time.Second))},
			}, metav1.CreateOptions{})
		case err == nil:
			lease.Spec.RenewTime = &now
			for k, v := range r.annotations() {
				metav1.SetMetaDataAnnotation(&lease.ObjectMeta, k, v)
			}
			_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		}
		if ctx.Err() == nil {
			r.renewed(err)
		}
		if err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "Renewing this replica's runner Lease failed", "lease", name)
		}
		select {
		case <-ctx.Done():
			cleanup, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = leases.Delete(cleanup, name, metav1.DeleteOptions{})
			cancel()
			return
		case <-ticker.C:
		}
	}
}

// Alive says whether runner renewed its Lease recently. Unsure (an error,
// or this replica not renewing its own long enough) counts as alive: never
// fail another replica's Tasks on a doubt.
func (r *RunnerLeases) Alive(runner string) bool {
	if !r.judging() {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lease, err := r.client.CoordinationV1().Leases(r.namespace).Get(ctx, runnerLeaseName(runner), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false
	}
	if err != nil || lease.Spec.RenewTime == nil {
		// Unsure: never fail another replica's Tasks on a read error.
		return true
	}
	return time.Since(lease.Spec.RenewTime.Time) < runnerLeaseDuration
}

func (r *RunnerLeases) annotations() map[string]string {
	if r.address == "" {
		return nil
	}
	return map[string]string{peerAddressAnnotation: r.address}
}

// AddressOf is where runner serves, "" when its Lease is gone or names none.
func (r *RunnerLeases) AddressOf(ctx context.Context, runner string) (string, error) {
	lease, err := r.client.CoordinationV1().Leases(r.namespace).Get(ctx, runnerLeaseName(runner), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return lease.Annotations[peerAddressAnnotation], nil
}

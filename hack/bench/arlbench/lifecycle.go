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

package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/hack/bench/benchstats"
)

// backgroundWindow is how long the stores' own write rate (leases, node
// status, leader election) is watched before the lifecycles, to be taken
// out of their counts.
const backgroundWindow = 10 * time.Second

// storeRevisions are both stores' revisions at one moment (kube is -1 in
// standalone, where there is no kube-apiserver).
type storeRevisions struct {
	at        time.Time
	arl, kube int64
}

func (b *bench) storeRevisions(ctx context.Context) (storeRevisions, error) {
	r := storeRevisions{at: time.Now(), kube: -1}
	var err error
	if r.arl, err = b.revision(ctx); err != nil {
		return r, err
	}
	if kube, err := b.kubeRevision(ctx); err == nil {
		r.kube = kube
	}
	return r, nil
}

// writesPerSecond is each store's write rate from r to later.
func (r storeRevisions) writesPerSecond(later storeRevisions) (arl, kube float64) {
	seconds := later.at.Sub(r.at).Seconds()
	return float64(later.arl-r.arl) / seconds, float64(later.kube-r.kube) / seconds
}

// lifecycles binds a Sandbox, runs --lifecycle-tasks Tasks `true` in it
// and deletes it, --lifecycles times at --rate: an RL rollout's sandbox.
// It counts what each cost both stores once the pool has settled again, so
// the pod's deletion or reset and the pool's refill are in (kube-apiserver's writes,
// Events included, from its store's revision; none in standalone) and the
// CPU each component spent per sandbox. The writes the stores make anyway
// (a control plane renews its leases every few seconds: about one kube
// write per sandbox at 1/s) are measured first and taken out.
func (b *bench) lifecycles(ctx context.Context) (sample, string, error) {
	idle, err := b.storeRevisions(ctx)
	if err != nil {
		return nil, "", err
	}
	time.Sleep(backgroundWindow)
	start0, err := b.storeRevisions(ctx)
	if err != nil {
		return nil, "", err
	}
	arlIdle, kubeIdle := idle.writesPerSecond(start0)
	cpu := benchstats.CPUNow()
	var s sample
	interval := time.Duration(float64(time.Second) / b.o.rate)
	next := time.Now()
	for range b.o.lifecycles {
		time.Sleep(time.Until(next))
		next = next.Add(interval)
		start := time.Now()
		sb, err := b.bind(ctx, "life")
		if err == nil && sb.Name != "" {
			sb, err = b.waitReady(ctx, sb.Name)
		}
		for range b.o.lifecycleTasks {
			if err != nil {
				break
			}
			_, err = b.exec(ctx, sb.Name, 1)
		}
		if err == nil {
			err = b.arl.Sandboxes(b.o.namespace).Delete(ctx, sb.Name, metav1.DeleteOptions{})
		}
		if err != nil {
			return nil, "", fmt.Errorf("lifecycle: %w", err)
		}
		s = append(s, time.Since(start))
	}
	if err := b.waitSettled(ctx, int32(b.o.poolReplicas)); err != nil {
		return nil, "", err
	}
	time.Sleep(2 * time.Second)
	spent := cpu.Since()
	end, err := b.storeRevisions(ctx)
	if err != nil {
		return nil, "", err
	}
	n := float64(b.o.lifecycles)
	elapsed := end.at.Sub(start0.at).Seconds()
	writes := fmt.Sprintf("%.1f ARL writes per sandbox", (float64(end.arl-start0.arl)-arlIdle*elapsed)/n)
	if start0.kube >= 0 && end.kube >= 0 {
		writes += fmt.Sprintf(" + %.1f kube-apiserver writes (pods, Events, refill)", (float64(end.kube-start0.kube)-kubeIdle*elapsed)/n)
	}
	writes += fmt.Sprintf(", net of the stores' own %.1f + %.1f writes/s", arlIdle, kubeIdle)
	return s, writes + "; per sandbox " + spent.PerOp(b.o.lifecycles), nil
}

// kubeRevision is kube-apiserver's store revision; an error in standalone.
func (b *bench) kubeRevision(ctx context.Context) (int64, error) {
	list, err := b.kube.CoreV1().ConfigMaps("kube-system").List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(list.ResourceVersion, 10, 64)
}

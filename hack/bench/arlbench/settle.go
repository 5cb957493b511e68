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
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// waitSettled waits until the pool has n idle Ready pods and, in a cluster,
// none of its pods is still starting or terminating. A phase measured while
// the node still creates or tears down the previous phase's pods measures
// the kubelet, not ARL: on 2 cores a pod start costs a core for a moment.
func (b *bench) waitSettled(ctx context.Context, n int32) error {
	deadline := time.Now().Add(10 * time.Minute)
	last := "no pool status yet"
	for time.Now().Before(deadline) {
		settled, why, err := b.settled(ctx, n)
		if err != nil {
			return err
		}
		if settled {
			return nil
		}
		last = why
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("the pool never settled with %d idle Ready pods: %s", n, last)
}

func (b *bench) settled(ctx context.Context, n int32) (bool, string, error) {
	wp, err := b.arl.WarmPools(b.o.namespace).Get(ctx, poolName, metav1.GetOptions{})
	if err != nil {
		return false, "", err
	}
	if wp.Status.ReadyReplicas < n {
		return false, fmt.Sprintf("%d of %d idle pods Ready", wp.Status.ReadyReplicas, n), nil
	}
	pods, err := b.kube.CoreV1().Pods(b.o.namespace).List(ctx, metav1.ListOptions{LabelSelector: arl.LabelPool + "=" + poolName})
	if apierrors.IsNotFound(err) {
		return true, "", nil // standalone serves no pods: its sandboxes are local processes
	}
	if err != nil {
		return false, "", err
	}
	for i := range pods.Items {
		if p := &pods.Items[i]; p.DeletionTimestamp != nil || !podReady(p) {
			return false, fmt.Sprintf("pod %s is starting or terminating", p.Name), nil
		}
	}
	return true, "", nil
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

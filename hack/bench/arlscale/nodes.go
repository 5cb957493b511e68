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
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// kwok manages the nodes carrying this annotation (hack/scale.sh starts it
// with that selector); the taint keeps the real node's workloads off them
// and the label is what the scale pool's pods select.
const (
	kwokAnnotation = "kwok.x-k8s.io/node"
	kwokTaintKey   = "kwok.x-k8s.io/node"
	kwokNodeLabel  = "arl.infra.io/scale-node"
)

// ensureNodes creates n simulated nodes with room for the pool and waits
// until kwok reports them Ready.
func (s *suite) ensureNodes(ctx context.Context) error {
	perNode := s.o.pods/s.o.nodes*2 + 110 // the pool, its refills and the bound pods
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("1000"),
		corev1.ResourceMemory: resource.MustParse("4Ti"),
		corev1.ResourcePods:   *resource.NewQuantity(int64(perNode), resource.DecimalSI),
	}
	for i := range s.o.nodes {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        fmt.Sprintf("kwok-%d", i),
				Annotations: map[string]string{kwokAnnotation: "fake"},
				Labels:      map[string]string{kwokNodeLabel: "true", corev1.LabelHostname: fmt.Sprintf("kwok-%d", i)},
			},
			Spec:   corev1.NodeSpec{Taints: []corev1.Taint{{Key: kwokTaintKey, Value: "fake", Effect: corev1.TaintEffectNoSchedule}}},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if _, err := s.kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("node %s: %w", node.Name, err)
		}
	}
	return poll(ctx, 2*time.Minute, "kwok to report the nodes Ready", func() (bool, error) {
		nodes, err := s.kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: kwokNodeLabel})
		if err != nil {
			return false, err
		}
		ready := 0
		for i := range nodes.Items {
			for _, c := range nodes.Items[i].Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= s.o.nodes, nil
	})
}

// poll calls check every 200 ms until it says done or fails; past timeout
// the error says what was awaited.
func poll(ctx context.Context, timeout time.Duration, what string, check func() (bool, error)) error {
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(context.Context) (bool, error) { return check() })
	if wait.Interrupted(err) {
		return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
	}
	return err
}

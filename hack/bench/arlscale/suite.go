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
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/hack/bench/benchstats"
	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlclient "github.com/arl-infra/arl/pkg/generated/clientset/versioned/typed/arl/v1alpha1"
)

const poolName = "scale-pool"

type suite struct {
	o    options
	arl  arlclient.ArlV1alpha1Interface
	kube kubernetes.Interface
	mu   sync.Mutex
	// bound counts the Sandboxes created so far (their names' sequence).
	bound int
}

func newSuite(cfg *rest.Config, o options) (*suite, error) {
	arlClient, err := arlclient.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	// Lists of thousands of pods and nodes: protobuf, as kube's own
	// controllers read them.
	kubeCfg := rest.CopyConfig(cfg)
	kubeCfg.ContentType = runtime.ContentTypeProtobuf
	kubeCfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	kubeClient, err := kubernetes.NewForConfig(kubeCfg)
	if err != nil {
		return nil, err
	}
	return &suite{o: o, arl: arlClient, kube: kubeClient}, nil
}

func (s *suite) run(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: s.o.namespace}}
	if _, err := s.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := s.ensureNodes(ctx); err != nil {
		return err
	}
	header()
	if err := s.fill(ctx); err != nil {
		return err
	}
	for _, b := range strings.Split(s.o.bursts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(b))
		if err != nil || n <= 0 {
			continue
		}
		if err := s.burst(ctx, n); err != nil {
			return err
		}
	}
	if err := s.steady(ctx); err != nil {
		return err
	}
	if err := s.holdSandboxes(ctx); err != nil {
		return err
	}
	if s.o.tasks > 0 {
		if err := s.tasksAndCleanup(ctx); err != nil {
			return err
		}
	}
	return nil
}

// createPool creates the pool the suite binds from; its pods go to kwok's nodes.
func (s *suite) createPool(ctx context.Context) error {
	_, err := s.arl.WarmPools(s.o.namespace).Create(ctx, &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: poolName},
		Spec: arlv1alpha1.WarmPoolSpec{Replicas: ptr.To(int32(s.o.pods)), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			NodeSelector: map[string]string{kwokNodeLabel: "true"},
			Tolerations:  []corev1.Toleration{{Key: kwokTaintKey, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			Containers:   []corev1.Container{{Name: arl.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"}}},
		}}},
	}, metav1.CreateOptions{})
	return err
}

// waitPool waits until the pool has its idle pods Ready again.
func (s *suite) waitPool(ctx context.Context, timeout time.Duration) error {
	last := ""
	err := poll(ctx, timeout, "the pool's idle pods", func() (bool, error) {
		wp, err := s.arl.WarmPools(s.o.namespace).Get(ctx, poolName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		last = fmt.Sprintf("%d of %d idle Ready", wp.Status.ReadyReplicas, s.o.pods)
		return wp.Status.ReadyReplicas >= int32(s.o.pods), nil
	})
	if err != nil {
		return fmt.Errorf("%w (%s)", err, last)
	}
	return nil
}

func header() {
	fmt.Println("| phase | n | p50 | p99 | wall | rate | note | CPU seconds by component |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
}

// row prints one phase: its latencies (if any), how long it took, its rate,
// and what each component spent on it.
func row(phase string, lat benchstats.Sample, n int, wall time.Duration, note string, cpu benchstats.Usage) {
	p50, p99 := "", ""
	if len(lat) > 0 {
		p50, p99 = benchstats.MS(lat.Percentile(0.5)), benchstats.MS(lat.Percentile(0.99))
	}
	rate := ""
	if n > 0 && wall > 0 {
		rate = fmt.Sprintf("%.0f/s", float64(n)/wall.Seconds())
	}
	fmt.Printf("| %s | %d | %s | %s | %.1f s | %s | %s | %s |\n", phase, n, p50, p99, wall.Seconds(), rate, note, cpu)
}

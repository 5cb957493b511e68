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
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/hack/bench/benchstats"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// fill creates the pool and times it until every idle pod is Ready.
func (s *suite) fill(ctx context.Context) error {
	cpu, start := benchstats.CPUNow(), time.Now()
	if err := s.createPool(ctx); err != nil {
		return err
	}
	if err := s.waitPool(ctx, 30*time.Minute); err != nil {
		return err
	}
	row(fmt.Sprintf("fill the pool to %d idle Ready pods", s.o.pods), nil, s.o.pods, time.Since(start), "pods created, scheduled and Ready", cpu.Since())
	return nil
}

// burst creates n Sandboxes at once against the full pool: per-bind latency
// and the time until all are Ready, then checks the binds.
func (s *suite) burst(ctx context.Context, n int) error {
	if err := s.waitPool(ctx, 30*time.Minute); err != nil {
		return err
	}
	cpu, start := benchstats.CPUNow(), time.Now()
	lat, cold, err := s.bindConcurrently(ctx, n, n)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	row(fmt.Sprintf("burst of %d binds", n), lat, n, wall, fmt.Sprintf("%d cold; all Ready after %.0f ms", cold, float64(wall)/float64(time.Millisecond)), cpu.Since())
	return s.checkBinds(ctx)
}

// steady binds back to back from --concurrency clients for --steady-for:
// the rate the control plane sustains.
func (s *suite) steady(ctx context.Context) error {
	if err := s.waitPool(ctx, 30*time.Minute); err != nil {
		return err
	}
	cpu, start := benchstats.CPUNow(), time.Now()
	var (
		mu   sync.Mutex
		lat  benchstats.Sample
		cold int
	)
	err := s.workers(ctx, s.o.concurrency, func() (bool, error) {
		if time.Since(start) >= s.o.steadyFor {
			return false, nil
		}
		d, warm, err := s.bindOne(ctx)
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, d)
		if !warm {
			cold++
		}
		return true, err
	})
	if err != nil {
		return err
	}
	row(fmt.Sprintf("steady binds, %d clients back to back", s.o.concurrency), lat, len(lat), time.Since(start), fmt.Sprintf("%d cold", cold), cpu.Since())
	return s.checkBinds(ctx)
}

// holdSandboxes binds until --sandboxes exist, lets the pool refill, and
// weighs the servers.
func (s *suite) holdSandboxes(ctx context.Context) error {
	n := s.o.sandboxes - s.bound
	if n > 0 {
		cpu, start := benchstats.CPUNow(), time.Now()
		lat, cold, err := s.bindConcurrently(ctx, n, s.o.concurrency)
		if err != nil {
			return err
		}
		row(fmt.Sprintf("binds up to %d Sandboxes, %d clients", s.o.sandboxes, s.o.concurrency), lat, n, time.Since(start), fmt.Sprintf("%d cold", cold), cpu.Since())
	}
	cpu, start := benchstats.CPUNow(), time.Now()
	if err := s.waitPool(ctx, 30*time.Minute); err != nil {
		return err
	}
	row("the pool refilled", nil, 0, time.Since(start), "", cpu.Since())
	if err := s.checkBinds(ctx); err != nil {
		return err
	}
	s.weigh(fmt.Sprintf("%d idle pods + %d Sandboxes", s.o.pods, s.bound))
	return nil
}

// bindConcurrently creates n Sandboxes from c clients at once; cold ones
// (not Ready in their create response) are waited for.
func (s *suite) bindConcurrently(ctx context.Context, n, c int) (benchstats.Sample, int, error) {
	var (
		mu   sync.Mutex
		lat  benchstats.Sample
		cold int
		left = n
	)
	err := s.workers(ctx, c, func() (bool, error) {
		mu.Lock()
		if left == 0 {
			mu.Unlock()
			return false, nil
		}
		left--
		mu.Unlock()
		d, warm, err := s.bindOne(ctx)
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, d)
		if !warm {
			cold++
		}
		return true, err
	})
	return lat, cold, err
}

// bindOne creates a Sandbox and, if the create did not answer Ready,
// waits for it; the latency is until Ready either way.
func (s *suite) bindOne(ctx context.Context) (time.Duration, bool, error) {
	_, d, warm, err := s.bindNamed(ctx)
	return d, warm, err
}

// bindNamed is bindOne, also saying which Sandbox it made.
func (s *suite) bindNamed(ctx context.Context) (string, time.Duration, bool, error) {
	s.mu.Lock()
	s.bound++
	name := fmt.Sprintf("sb-%d", s.bound)
	s.mu.Unlock()
	start := time.Now()
	sb, err := s.arl.Sandboxes(s.o.namespace).Create(ctx, &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: poolName, KeepAlive: true},
	}, metav1.CreateOptions{})
	if err != nil {
		return name, 0, false, fmt.Errorf("binding %s: %w", name, err)
	}
	if sb.Status.Phase == arlv1alpha1.SandboxReady {
		return name, time.Since(start), true, nil
	}
	err = poll(ctx, 10*time.Minute, "Sandbox "+name+" Ready", func() (bool, error) {
		sb, err := s.arl.Sandboxes(s.o.namespace).Get(ctx, name, metav1.GetOptions{})
		return err == nil && sb.Status.Phase == arlv1alpha1.SandboxReady, err
	})
	return name, time.Since(start), false, err
}

// workers runs fn from c goroutines until each says stop or one fails.
func (s *suite) workers(ctx context.Context, c int, fn func() (bool, error)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for ctx.Err() == nil {
				more, err := fn()
				if err != nil {
					cancel(err)
					return
				}
				if !more {
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

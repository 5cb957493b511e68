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
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/hack/bench/benchstats"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// The suite's Tasks name a Sandbox that does not exist: each finishes as
// soon as it is stored (Failed, SandboxNotFound), with the same two writes
// as any Task (the create and its status) and no sandbox to run in, which
// kwok's pods do not have. Their stored size is a small Task's.
const missingSandbox = "scale-no-such-sandbox"

// tasksAndCleanup stores --tasks finished Tasks, weighs the servers, then
// binds at a fixed rate before and while the Tasks' TTL deletes them.
func (s *suite) tasksAndCleanup(ctx context.Context) error {
	cpu, start := benchstats.CPUNow(), time.Now()
	lat, err := s.createTasks(ctx)
	if err != nil {
		return err
	}
	row(fmt.Sprintf("create %d Tasks, %d clients", s.o.tasks, s.o.taskConcurrency), lat, len(lat), time.Since(start), "each finishes at once (SandboxNotFound)", cpu.Since())
	cpu, waited := benchstats.CPUNow(), time.Now()
	if err := s.waitTasksFinished(ctx); err != nil {
		return err
	}
	row("every Task finished", nil, 0, time.Since(waited), "", cpu.Since())
	s.weigh(fmt.Sprintf("%d idle pods + %d Sandboxes + %d finished Tasks", s.o.pods, s.bound, s.o.tasks))

	// The binds before the cleanup fill the wait for the TTL, up to as
	// long as the binds during it: a p99 over 30 s of binds against one
	// over 6 minutes compared a window's second-slowest bind with its
	// eighteenth, and the longer window also held more of the periodic
	// work both have (consistency checks, garbage collection).
	expiry := start.Add(s.o.taskTTL)
	if window := min(s.o.cleanupFor, time.Until(expiry)-10*time.Second); window >= 30*time.Second {
		cpu, before := benchstats.CPUNow(), time.Now()
		lat, err := s.bindAtRate(ctx, func() bool { return time.Since(before) >= window })
		if err != nil {
			return err
		}
		row(fmt.Sprintf("binds at %.0f/s before the TTL cleanup", s.o.cleanupRate), lat, len(lat), time.Since(before), "", cpu.Since())
	} else {
		fmt.Printf("| binds before the TTL cleanup | | | | | | skipped: the TTL expires in %s; raise --task-ttl | |\n", time.Until(expiry).Round(time.Second))
	}
	time.Sleep(time.Until(expiry))
	cpu, cleanup := benchstats.CPUNow(), time.Now()
	var left atomic.Int64
	left.Store(int64(s.o.tasks))
	go func() {
		for ctx.Err() == nil && left.Load() > 0 {
			if n, err := s.countTasks(ctx); err == nil {
				left.Store(n)
			}
			time.Sleep(time.Second)
		}
	}()
	lat, err = s.bindAtRate(ctx, func() bool { return left.Load() == 0 || time.Since(cleanup) > s.o.cleanupFor })
	if err != nil {
		return err
	}
	wall := time.Since(cleanup)
	row(fmt.Sprintf("binds at %.0f/s during the TTL cleanup", s.o.cleanupRate), lat, len(lat), wall,
		fmt.Sprintf("%d Tasks deleted in %.0f s, %d left", s.o.tasks-int(left.Load()), wall.Seconds(), left.Load()), cpu.Since())
	return s.checkBinds(ctx)
}

func (s *suite) createTasks(ctx context.Context) (benchstats.Sample, error) {
	var (
		mu   sync.Mutex
		lat  benchstats.Sample
		next atomic.Int64
	)
	ttl := int32(s.o.taskTTL / time.Second)
	err := s.workers(ctx, s.o.taskConcurrency, func() (bool, error) {
		i := next.Add(1)
		if i > int64(s.o.tasks) {
			return false, nil
		}
		start := time.Now()
		_, err := s.arl.Tasks(s.o.namespace).Create(ctx, &arlv1alpha1.Task{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("task-%d", i)},
			Spec: arlv1alpha1.TaskSpec{SandboxRef: missingSandbox, TTLSecondsAfterFinished: ptr.To(ttl),
				Steps: []arlv1alpha1.TaskStep{{Name: "true", Type: arlv1alpha1.StepCommand, Command: []string{"true"}}}},
		}, metav1.CreateOptions{})
		d := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, d)
		return true, err
	})
	return lat, err
}

// waitTasksFinished pages through the Tasks every few seconds until none
// is Pending or Running.
func (s *suite) waitTasksFinished(ctx context.Context) error {
	last := ""
	err := poll(ctx, 30*time.Minute, "the Tasks to finish", func() (bool, error) {
		unfinished, total := 0, 0
		opts := metav1.ListOptions{Limit: 5000}
		for {
			list, err := s.arl.Tasks(s.o.namespace).List(ctx, opts)
			if err != nil {
				return false, err
			}
			for i := range list.Items {
				total++
				if st := list.Items[i].Status.State; st != arlv1alpha1.TaskSucceeded && st != arlv1alpha1.TaskFailed {
					unfinished++
				}
			}
			if opts.Continue = list.Continue; opts.Continue == "" {
				break
			}
		}
		last = fmt.Sprintf("%d of %d not finished", unfinished, total)
		if unfinished > 0 {
			time.Sleep(3 * time.Second) // a full list is not free: do not spin on it
		}
		return unfinished == 0, nil
	})
	if err != nil {
		return fmt.Errorf("%w (%s)", err, last)
	}
	return nil
}

// countTasks counts the Tasks from one list of one item.
func (s *suite) countTasks(ctx context.Context) (int64, error) {
	list, err := s.arl.Tasks(s.o.namespace).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	n := int64(len(list.Items))
	if list.RemainingItemCount != nil {
		n += *list.RemainingItemCount
	}
	return n, nil
}

// bindAtRate starts binds at --cleanup-bind-rate, whatever the earlier ones
// are doing, each deleted once Ready, until done says stop; it returns the
// binds' latencies.
func (s *suite) bindAtRate(ctx context.Context, done func() bool) (benchstats.Sample, error) {
	var (
		mu   sync.Mutex
		lat  benchstats.Sample
		errs []error
		wg   sync.WaitGroup
	)
	tick := time.NewTicker(time.Duration(float64(time.Second) / s.o.cleanupRate))
	defer tick.Stop()
	for !done() {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		wg.Go(func() {
			name, d, _, err := s.bindNamed(ctx)
			if err == nil {
				// Each bind is undone: the pool's churn (a pod made for
				// the bind, one deleted for the Sandbox) stays the same
				// before and during the cleanup, and the number of
				// Sandboxes does not grow, so what moves the binds'
				// latency is the cleanup alone.
				err = s.arl.Sandboxes(s.o.namespace).Delete(ctx, name, metav1.DeleteOptions{})
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			lat = append(lat, d)
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return lat, nil
}

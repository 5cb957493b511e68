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
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/arl-infra/arl/hack/bench/benchstats"
)

// execTrue runs `true` through sandboxes/{name}/exec without an upgrade
// (the NDJSON answer) and returns how long the answer took to end.
func (b *bench) execTrue(ctx context.Context, sandbox string) (time.Duration, error) {
	start := time.Now()
	stream, err := b.arl.RESTClient().Post().Namespace(b.o.namespace).Resource("sandboxes").Name(sandbox).SubResource("exec").
		Param("command", "true").Param("stdout", "true").Param("stderr", "true").Stream(ctx)
	if err != nil {
		return 0, err
	}
	defer stream.Close()
	dec := json.NewDecoder(stream)
	for {
		var ev struct {
			ExitCode *int32          `json:"exitCode"`
			Error    json.RawMessage `json:"error"`
		}
		if err := dec.Decode(&ev); err != nil {
			return 0, fmt.Errorf("exec answer: %w", err)
		}
		if ev.Error != nil {
			return 0, fmt.Errorf("exec: %s", ev.Error)
		}
		if ev.ExitCode != nil {
			if *ev.ExitCode != 0 {
				return 0, fmt.Errorf("true exited %d", *ev.ExitCode)
			}
			return time.Since(start), nil
		}
	}
}

// execRows measures plain exec one at a time, then calls/s from c
// concurrent callers into the same sandbox (an exec stores nothing, so
// they share it) for each c in concurrency.
func (b *bench) execRows(ctx context.Context, sandbox string, n int, concurrency []int, floor sample) error {
	var seq sample
	for i := 0; i < n; i++ {
		d, err := b.execTrue(ctx, sandbox)
		if err != nil {
			return err
		}
		seq = append(seq, d)
	}
	row("exec `true` via sandboxes/exec (no upgrade)", seq, floor, "floor: raw sidecar Execute; no object stored")
	for _, c := range concurrency {
		cpu := benchstats.CPUNow()
		var mu sync.Mutex
		var lat sample
		var firstErr error
		var wg sync.WaitGroup
		deadline := time.Now().Add(b.o.throughputFor)
		start := time.Now()
		for i := 0; i < c; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					d, err := b.execTrue(ctx, sandbox)
					mu.Lock()
					if err != nil {
						firstErr = err
					} else {
						lat = append(lat, d)
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		perSec := float64(len(lat)) / time.Since(start).Seconds()
		fmt.Printf("| execs/s at concurrency %d, one sandbox | %d | %s | %s | | | | **%.0f calls/s**; per call %s |\n",
			c, len(lat), ms(lat.Percentile(0.5)), ms(lat.Percentile(0.99)), perSec, cpu.Since().PerOp(len(lat)))
	}
	return nil
}

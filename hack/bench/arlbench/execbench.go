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
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/sidecar/client"
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
// concurrent callers for each c in concurrency: into the same sandbox (an
// exec stores nothing, so they share it), then spread over
// --exec-sandboxes sandboxes (a sandbox's CPU limit, 1 core by default in
// standalone, bounds what one sandbox's agent spawns), each beside its
// floor: as many callers of the same agents directly, in the same run.
func (b *bench) execRows(ctx context.Context, sb *arlv1alpha1.Sandbox, n int, concurrency []int, floor sample) error {
	var seq sample
	for i := 0; i < n; i++ {
		d, err := b.execTrue(ctx, sb.Name)
		if err != nil {
			return err
		}
		seq = append(seq, d)
	}
	row("exec `true` via sandboxes/exec (no upgrade)", seq, floor, "floor: raw sidecar Execute; no object stored")
	sets := [][]*arlv1alpha1.Sandbox{{sb}}
	if b.o.execSandboxes > 1 {
		more := []*arlv1alpha1.Sandbox{sb}
		for len(more) < b.o.execSandboxes {
			s, err := b.bind(ctx, "exec")
			if err != nil {
				return err
			}
			if s, err = b.waitReady(ctx, s.Name); err != nil {
				return err
			}
			more = append(more, s)
		}
		sets = append(sets, more)
	}
	for _, set := range sets {
		if err := b.execCallsPerSecond(ctx, set, concurrency); err != nil {
			return err
		}
	}
	return nil
}

// execCallsPerSecond is the calls/s rows of one set of sandboxes: caller
// i of c calls sandbox i mod len(set).
func (b *bench) execCallsPerSecond(ctx context.Context, set []*arlv1alpha1.Sandbox, concurrency []int) error {
	where := "one sandbox"
	if len(set) > 1 {
		where = fmt.Sprintf("%d sandboxes", len(set))
	}
	var agents []*client.Client
	note := ""
	for _, sb := range set {
		agent, n, err := b.dialAgent(ctx, sb)
		if err != nil {
			fmt.Printf("| raw sidecar Execute calls/s, %s (floor) | 0 | | | | | | n/a: %v |\n", where, err)
			agents = nil
			break
		}
		defer agent.Close()
		agents, note = append(agents, agent), n
	}
	for _, c := range concurrency {
		floorPerSec := 0.0
		if agents != nil {
			cpu := benchstats.CPUNow()
			lat, perSec, err := callsPerSecond(c, b.o.throughputFor, func(i int) (time.Duration, error) { return agentTrue(ctx, agents[i%len(agents)]) })
			if err != nil {
				return err
			}
			floorPerSec = perSec
			fmt.Printf("| raw sidecar Execute `true` at concurrency %d, %s (floor) | %d | %s | %s | | | | **%.0f calls/s**; %s; per call %s |\n",
				c, where, len(lat), ms(lat.Percentile(0.5)), ms(lat.Percentile(0.99)), perSec, note, cpu.Since().PerOp(len(lat)))
		}
		cpu := benchstats.CPUNow()
		lat, perSec, err := callsPerSecond(c, b.o.throughputFor, func(i int) (time.Duration, error) { return b.execTrue(ctx, set[i%len(set)].Name) })
		if err != nil {
			return err
		}
		ofFloor := ""
		if floorPerSec > 0 {
			ofFloor = fmt.Sprintf(" (%.0f %% of the floor's)", 100*perSec/floorPerSec)
		}
		fmt.Printf("| execs/s at concurrency %d, %s | %d | %s | %s | | | | **%.0f calls/s**%s; per call %s |\n",
			c, where, len(lat), ms(lat.Percentile(0.5)), ms(lat.Percentile(0.99)), perSec, ofFloor, cpu.Since().PerOp(len(lat)))
	}
	return nil
}

// callsPerSecond runs call from c goroutines (call's argument: which)
// back to back for d and returns each call's latency and the calls
// completed per second.
func callsPerSecond(c int, d time.Duration, call func(caller int) (time.Duration, error)) (sample, float64, error) {
	var mu sync.Mutex
	var lat sample
	var firstErr error
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for i := 0; i < c; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				took, err := call(i)
				mu.Lock()
				if err != nil {
					firstErr = err
				} else {
					lat = append(lat, took)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	return lat, float64(len(lat)) / time.Since(start).Seconds(), firstErr
}

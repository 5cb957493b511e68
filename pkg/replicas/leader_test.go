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
	"sync/atomic"
	"testing"
	"time"
)

// TestTermsDoNotOverlap: a term that starts while the last one still stops
// (RunOrDie does not wait for it) begins only once that one returned; a
// term lost before it began does not run.
func TestTermsDoNotOverlap(t *testing.T) {
	var running, overlaps, runs atomic.Int32
	lead := oneTermAtATime(func(ctx context.Context) {
		runs.Add(1)
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond) // stopping takes a while
		running.Add(-1)
	})

	first, endFirst := context.WithCancel(context.Background())
	firstDone := make(chan struct{})
	go func() { lead(first); close(firstDone) }()
	for runs.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	endFirst()
	second, endSecond := context.WithCancel(context.Background())
	secondDone := make(chan struct{})
	go func() { lead(second); close(secondDone) }()
	<-firstDone
	for runs.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	endSecond()
	<-secondDone
	if overlaps.Load() != 0 {
		t.Errorf("%d terms ran while another was still stopping", overlaps.Load())
	}

	lost, endLost := context.WithCancel(context.Background())
	endLost()
	lead(lost)
	if runs.Load() != 2 {
		t.Errorf("a term lost before it began ran: %d runs, want 2", runs.Load())
	}
}

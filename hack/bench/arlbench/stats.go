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
	"fmt"
	"time"

	"github.com/arl-infra/arl/hack/bench/benchstats"
)

// sample is a set of latencies.
type sample = benchstats.Sample

func ms(d time.Duration) string { return benchstats.MS(d) }

// row prints one table row: a measurement and its floor.
func row(name string, s sample, floor sample, note string) {
	p50, p99 := s.Percentile(0.5), s.Percentile(0.99)
	floorCell, ratio, over := "", "", ""
	if len(floor) > 0 {
		f := floor.Percentile(0.5)
		floorCell = ms(f)
		if f > 0 {
			ratio = fmt.Sprintf("%.1f×", float64(p50)/float64(f))
			over = fmt.Sprintf("+%s", ms(p50-f))
		}
	}
	fmt.Printf("| %s | %d | %s | %s | %s | %s | %s | %s |\n", name, len(s), ms(p50), ms(p99), floorCell, over, ratio, note)
}

func header() {
	fmt.Println("| measurement | n | p50 | p99 | floor p50 | p50 − floor | p50 / floor | note |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
}

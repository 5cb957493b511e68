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

package pool

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/component-base/metrics/testutil"
)

// TestReadyPodsTimesEachStartOnce: a pod's time to Ready is observed when
// it turns Ready, once, and only by the replica that records; a pod first
// seen Ready, a pod Ready again after a blip and a deleted pod are not
// starts.
func TestReadyPodsTimesEachStartOnce(t *testing.T) {
	RegisterMetrics()
	created := time.Unix(1000, 0)
	pod := func(uid string, ready bool, notReadySince time.Time) *Pod {
		return &Pod{Namespace: "ns", Pool: "readiness", UID: types.UID(uid), State: PodIdle, Ready: ready, Created: created, NotReadySince: notReadySince}
	}
	type event struct {
		pod             *Pod
		deleted, record bool
	}
	cases := []struct {
		name      string
		events    []event
		wantCount uint64
		wantSum   float64
	}{
		{"starting, then Ready", []event{{pod("a", false, time.Time{}), false, true}, {pod("a", true, time.Time{}), false, true}}, 1, 5},
		{"Ready again and again", []event{{pod("a", false, time.Time{}), false, true}, {pod("a", true, time.Time{}), false, true}, {pod("a", true, time.Time{}), false, true}}, 1, 5},
		{"first seen Ready", []event{{pod("a", true, time.Time{}), false, true}}, 0, 0},
		{"Ready after a blip", []event{{pod("a", true, time.Time{}), false, true}, {pod("a", false, created.Add(time.Minute)), false, true}, {pod("a", true, created.Add(time.Minute)), false, true}}, 0, 0},
		{"turned Ready while another replica recorded", []event{{pod("a", false, time.Time{}), false, false}, {pod("a", true, time.Time{}), false, false}, {pod("a", true, time.Time{}), false, true}}, 0, 0},
		{"deleted, then a pod of the same UID seen again", []event{{pod("a", false, time.Time{}), false, true}, {pod("a", false, time.Time{}), true, true}, {pod("a", true, time.Time{}), false, true}}, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			podReadyDuration.Reset()
			var r readyPods
			for _, ev := range c.events {
				r.observe(ev.pod, ev.deleted, ev.record, created.Add(5*time.Second))
			}
			h := podReadyDuration.WithLabelValues("ns", "readiness")
			count, err := testutil.GetHistogramMetricCount(h)
			if err != nil {
				t.Fatal(err)
			}
			sum, err := testutil.GetHistogramMetricValue(h)
			if err != nil {
				t.Fatal(err)
			}
			if count != c.wantCount || sum != c.wantSum {
				t.Errorf("observed %d times, %v s in all; want %d, %v s", count, sum, c.wantCount, c.wantSum)
			}
		})
	}
}

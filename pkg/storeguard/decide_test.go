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

package storeguard

import (
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	rec := &Record{StoreUID: "s1", ClusterID: "c1", Revision: 100}
	for _, tc := range []struct {
		name      string
		recorded  *Record
		highWater int64
		obs       Observation
		want      verdict
		refusal   string
	}{
		{name: "new installation, empty etcd: mark it",
			obs: Observation{ClusterID: "c1", Revision: 1}, want: verdict{createMarker: true}},
		{name: "upgrade from a release without the guard: data, no marker: mark it",
			obs: Observation{ClusterID: "c1", Revision: 5000}, want: verdict{createMarker: true}},
		{name: "record cleared by an administrator, marked store: adopt it",
			obs: Observation{ClusterID: "c9", Revision: 7, Marker: "s9"}, want: verdict{ok: true, adopt: true}},
		{name: "the recorded store, revision moved on",
			recorded: rec, obs: Observation{ClusterID: "c1", Revision: 150, Marker: "s1"}, want: verdict{ok: true}},
		{name: "the recorded store, revision unchanged",
			recorded: rec, highWater: 100, obs: Observation{ClusterID: "c1", Revision: 100, Marker: "s1"}, want: verdict{ok: true}},
		{name: "etcd came back empty (same cluster ID: a single member made anew)",
			recorded: rec, obs: Observation{ClusterID: "c1", Revision: 1}, refusal: "has no ARL marker"},
		{name: "another installation's store",
			recorded: rec, obs: Observation{ClusterID: "c1", Revision: 500, Marker: "s2"}, refusal: "not store s1"},
		{name: "restored from a snapshot: new cluster ID",
			recorded: rec, obs: Observation{ClusterID: "c2", Revision: 900, Marker: "s1"}, refusal: "cluster ID changed"},
		{name: "rewound below the recorded revision",
			recorded: rec, obs: Observation{ClusterID: "c1", Revision: 99, Marker: "s1"}, refusal: "went back from 100 to 99"},
		{name: "rewound below what this process saw since",
			recorded: rec, highWater: 400, obs: Observation{ClusterID: "c1", Revision: 300, Marker: "s1"}, refusal: "went back from 400 to 300"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decide(tc.recorded, tc.highWater, tc.obs)
			if tc.refusal != "" {
				if got.ok || !strings.Contains(got.refusal, tc.refusal) {
					t.Fatalf("decide = %+v, want a refusal saying %q", got, tc.refusal)
				}
				return
			}
			if got != tc.want {
				t.Fatalf("decide = %+v, want %+v", got, tc.want)
			}
		})
	}
}

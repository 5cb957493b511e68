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

import "fmt"

// Record is what an installation remembers of its store, outside it.
type Record struct {
	// StoreUID is the UID of the store's marker key.
	StoreUID string `json:"storeUID"`
	// ClusterID is the etcd cluster's ID, as etcd reports it (hex).
	ClusterID string `json:"clusterID"`
	// Revision is the highest store revision seen.
	Revision int64 `json:"revision"`
}

// Observation is what one quorum read of the marker key tells.
type Observation struct {
	ClusterID string
	Revision  int64
	// Marker is the marker's UID; "" when the key is absent.
	Marker string
}

// verdict is what a check decides.
type verdict struct {
	// ok: the store is the one recorded (or is adopted now).
	ok bool
	// createMarker: an unmarked store, used for the first time.
	createMarker bool
	// adopt: no record yet: record this store.
	adopt bool
	// refusal says why the store is not the one recorded.
	refusal string
}

// decide compares what etcd says with what the installation recorded
// (nil: nothing recorded: a new installation, an upgrade from a release
// without the guard, or an administrator who cleared the record) and the
// highest revision this process saw.
func decide(recorded *Record, highWater int64, obs Observation) verdict {
	if recorded == nil {
		if obs.Marker == "" {
			return verdict{createMarker: true}
		}
		return verdict{ok: true, adopt: true}
	}
	highWater = max(highWater, recorded.Revision)
	switch {
	case obs.Marker == "":
		return verdict{refusal: fmt.Sprintf("the store has no ARL marker (revision %d, etcd cluster %s): "+
			"it came back empty or is another etcd, not store %s (etcd cluster %s, revision %d seen)",
			obs.Revision, obs.ClusterID, recorded.StoreUID, recorded.ClusterID, highWater)}
	case obs.Marker != recorded.StoreUID:
		return verdict{refusal: fmt.Sprintf("the store is %s, not store %s that this installation wrote", obs.Marker, recorded.StoreUID)}
	case obs.ClusterID != recorded.ClusterID:
		return verdict{refusal: fmt.Sprintf("the etcd cluster ID changed from %s to %s: the store was restored from a snapshot or replaced",
			recorded.ClusterID, obs.ClusterID)}
	case obs.Revision < highWater:
		return verdict{refusal: fmt.Sprintf("the store's revision went back from %d to %d: it was rewound (an older copy restored)",
			highWater, obs.Revision)}
	}
	return verdict{ok: true}
}

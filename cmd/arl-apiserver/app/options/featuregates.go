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

package options

import (
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
)

// featureDefaults are the Kubernetes feature gates whose default ARL
// changes; --feature-gates still sets any of them.
//
// ListFromCacheSnapshot (beta, on in Kubernetes) keeps a copy-on-write
// snapshot of a watch cache's tree for each recent revision, so that a
// paginated list can be served from memory. Tasks are written twice each
// and kept by the hundred thousand, and those snapshots were 27 % of
// standalone arl-apiserver's live heap holding 20,000 finished Tasks
// (docs/performance.md). Without them a list's later pages come from etcd,
// as they did before Kubernetes 1.34; informers' lists and watches are
// served from the cache as before.
//
// DetectCacheInconsistency (beta, on in Kubernetes) lists each resource
// whole from etcd every 5 to 7.5 minutes on every replica and compares it
// with the watch cache. Decoding 100,000 Tasks took a replica ~3 CPU
// seconds and several garbage collections, and binds on the 2-core test
// cluster answered in up to 580 ms while it ran (make test-scale). What it
// acts on when it finds a difference is ListFromCacheSnapshot, off above;
// otherwise it logs and counts.
var featureDefaults = map[string]bool{
	string(features.ListFromCacheSnapshot):    false,
	string(features.DetectCacheInconsistency): false,
}

// setFeatureDefaults applies featureDefaults to the process's feature
// gates; it runs before the flags are parsed, so --feature-gates wins.
func setFeatureDefaults() {
	utilruntime.Must(utilfeature.DefaultMutableFeatureGate.SetFromMap(featureDefaults))
}

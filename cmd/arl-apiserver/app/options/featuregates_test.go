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
	"testing"

	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	"k8s.io/component-base/featuregate"
)

// TestFeatureDefaults: ARL's defaults hold when no flag names the gate,
// and --feature-gates overrides them.
func TestFeatureDefaults(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want map[featuregate.Feature]bool
	}{
		{name: "default", want: map[featuregate.Feature]bool{features.ListFromCacheSnapshot: false, features.DetectCacheInconsistency: false}},
		{name: "flag turns one on", args: []string{"--feature-gates=ListFromCacheSnapshot=true"},
			want: map[featuregate.Feature]bool{features.ListFromCacheSnapshot: true, features.DetectCacheInconsistency: false}},
		{name: "flag turns both on", args: []string{"--feature-gates=ListFromCacheSnapshot=true,DetectCacheInconsistency=true"},
			want: map[featuregate.Feature]bool{features.ListFromCacheSnapshot: true, features.DetectCacheInconsistency: true}},
		{name: "flag keeps them off", args: []string{"--feature-gates=ListFromCacheSnapshot=false,DetectCacheInconsistency=false"},
			want: map[featuregate.Feature]bool{features.ListFromCacheSnapshot: false, features.DetectCacheInconsistency: false}},
	}
	t.Cleanup(setFeatureDefaults)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := parseFlags(t, c.args...); err != nil {
				t.Fatal(err)
			}
			for gate, want := range c.want {
				if got := utilfeature.DefaultFeatureGate.Enabled(gate); got != want {
					t.Errorf("%s enabled = %v, want %v", gate, got, want)
				}
			}
		})
	}
}

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

package eventvolume

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestRecords(t *testing.T) {
	for _, tc := range []struct {
		volume          Volume
		normal, warning bool
	}{
		{All, true, true},
		{Failures, false, true},
		{None, false, false},
	} {
		if got := tc.volume.Records(corev1.EventTypeNormal); got != tc.normal {
			t.Errorf("%s records Normal: %v, want %v", tc.volume, got, tc.normal)
		}
		if got := tc.volume.Records(corev1.EventTypeWarning); got != tc.warning {
			t.Errorf("%s records Warning: %v, want %v", tc.volume, got, tc.warning)
		}
		if err := tc.volume.Validate("--x"); err != nil {
			t.Errorf("%s: %v", tc.volume, err)
		}
	}
	if err := Volume("some").Validate("--task-events"); err == nil || err.Error() != `--task-events must be all, failures or none, not "some"` {
		t.Errorf("Validate(some) = %v", err)
	}
}

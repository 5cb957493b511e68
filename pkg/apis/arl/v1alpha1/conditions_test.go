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

package v1alpha1_test

import (
	"testing"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// TestConditionTypes pins the condition types clients match on (kubectl
// wait --for=condition=..., the SDK): the literals are the wire format, and
// the internal constants the server writes must be the same.
func TestConditionTypes(t *testing.T) {
	for _, c := range []struct{ wire, v1alpha1, internal string }{
		{"Ready", v1alpha1.WarmPoolConditionReady, arl.WarmPoolConditionReady},
		{"ReplicaFailure", v1alpha1.WarmPoolConditionReplicaFailure, arl.WarmPoolConditionReplicaFailure},
		{"Ready", v1alpha1.SandboxConditionReady, arl.SandboxConditionReady},
		{"Complete", v1alpha1.TaskConditionComplete, arl.TaskConditionComplete},
	} {
		if c.v1alpha1 != c.wire || c.internal != c.wire {
			t.Errorf("condition type %q: v1alpha1 %q, internal %q", c.wire, c.v1alpha1, c.internal)
		}
	}
}

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
	"k8s.io/apimachinery/pkg/labels"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

var labelsEverything = labels.Everything()

// toInternalPool converts a cached WarmPool for the runtime, which works on
// internal objects as the registry does.
func toInternalPool(in *arlv1alpha1.WarmPool) *arl.WarmPool {
	out := &arl.WarmPool{}
	if err := arlv1alpha1.Convert_v1alpha1_WarmPool_To_arl_WarmPool(in, out, nil); err != nil {
		// Generated conversions of these types cannot fail.
		panic(err)
	}
	return out
}

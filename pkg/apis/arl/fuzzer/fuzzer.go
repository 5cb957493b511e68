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

// Package fuzzer fills ARL objects with random values that respect what
// defaulting and the wire format guarantee, for round-trip tests.
package fuzzer

import (
	corev1 "k8s.io/api/core/v1"
	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// Funcs returns the fuzzer functions of the arl.infra.io group.
func Funcs(codecs runtimeserializer.CodecFactory) []interface{} {
	return []interface{}{
		func(s *arl.WarmPoolSpec, c randfill.Continue) {
			c.FillNoCustom(s)
			// Defaulting fills an empty policy on decode.
			if s.ReusePolicy == "" {
				s.ReusePolicy = arl.ReusePolicyDelete
			}
			if s.Network.Egress.Mode == "" {
				s.Network.Egress.Mode = arl.EgressInternet
			}
		},
		func(p *arl.EgressPort, c randfill.Continue) {
			c.FillNoCustom(p)
			if p.Protocol == "" {
				p.Protocol = corev1.ProtocolTCP
			}
		},
		// The pod template is core/v1 in both versions; decoding applies the
		// core types' declared defaults, so a fuzzed template carries them.
		func(template *corev1.PodTemplateSpec, c randfill.Continue) {
			c.FillNoCustom(template)
			defaulted := v1alpha1.WarmPool{Spec: v1alpha1.WarmPoolSpec{Template: *template}}
			v1alpha1.SetObjectDefaults_WarmPool(&defaulted)
			*template = defaulted.Spec.Template
		},
		// An IntOrString holds one kind of value on the wire.
		func(v *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*v = intstr.FromInt32(c.Int31())
			} else {
				*v = intstr.FromString(c.String(20))
			}
		},
	}
}

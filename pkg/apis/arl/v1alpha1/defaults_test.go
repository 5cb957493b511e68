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

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"

	"github.com/arl-infra/arl/pkg/apis/arl/install"
	"github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// TestDecodeAppliesDefaults decodes what a user writes, as the server does.
func TestDecodeAppliesDefaults(t *testing.T) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	decoder := serializer.NewCodecFactory(scheme).UniversalDecoder(v1alpha1.SchemeGroupVersion)

	obj, err := runtime.Decode(decoder, []byte(`{"apiVersion":"arl.infra.io/v1alpha1","kind":"WarmPool",
		"metadata":{"name":"p"},"spec":{"template":{"spec":{"containers":[{"name":"executor","image":"x"}]}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	spec := obj.(*v1alpha1.WarmPool).Spec
	if spec.Replicas == nil || *spec.Replicas != 1 || spec.ReusePolicy != v1alpha1.ReusePolicyDelete {
		t.Errorf("defaults: replicas=%v reusePolicy=%q, want 1 and Delete", spec.Replicas, spec.ReusePolicy)
	}
	if spec.Network.Egress.Mode != v1alpha1.EgressInternet {
		t.Errorf("default egress mode %q, want Internet", spec.Network.Egress.Mode)
	}

	obj, err = runtime.Decode(decoder, []byte(`{"apiVersion":"arl.infra.io/v1alpha1","kind":"WarmPool",
		"metadata":{"name":"p"},"spec":{"template":{},"network":{"egress":{"mode":"AllowList",
		"allow":[{"cidr":"203.0.113.0/24","ports":[{"port":443},{"protocol":"UDP","port":53}]}]}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	egress := obj.(*v1alpha1.WarmPool).Spec.Network.Egress
	if egress.Mode != v1alpha1.EgressAllowList || egress.Allow[0].Ports[0].Protocol != corev1.ProtocolTCP || egress.Allow[0].Ports[1].Protocol != corev1.ProtocolUDP {
		t.Errorf("egress after defaulting: %+v, want mode AllowList kept, port 443 TCP, port 53 UDP kept", egress)
	}

	obj, err = runtime.Decode(decoder, []byte(`{"apiVersion":"arl.infra.io/v1alpha1","kind":"WarmPool",
		"metadata":{"name":"p"},"spec":{"replicas":0,"reusePolicy":"Reset","template":{}}}`))
	if err != nil {
		t.Fatal(err)
	}
	spec = obj.(*v1alpha1.WarmPool).Spec
	if *spec.Replicas != 0 || spec.ReusePolicy != v1alpha1.ReusePolicyReset {
		t.Errorf("explicit values must survive defaulting: replicas=%d reusePolicy=%q", *spec.Replicas, spec.ReusePolicy)
	}
}

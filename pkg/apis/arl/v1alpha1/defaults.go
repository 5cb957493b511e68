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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_WarmPoolSpec keeps one idle pod and deletes pods after use
// unless told otherwise.
func SetDefaults_WarmPoolSpec(obj *WarmPoolSpec) {
	if obj.Replicas == nil {
		one := int32(1)
		obj.Replicas = &one
	}
	if obj.ReusePolicy == "" {
		obj.ReusePolicy = ReusePolicyDelete
	}
	if obj.Network.Egress.Mode == "" {
		obj.Network.Egress.Mode = EgressInternet
	}
}

// SetDefaults_EgressPort makes a port TCP unless it says otherwise.
func SetDefaults_EgressPort(obj *EgressPort) {
	if obj.Protocol == "" {
		obj.Protocol = corev1.ProtocolTCP
	}
}

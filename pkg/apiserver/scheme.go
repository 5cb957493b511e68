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

package apiserver

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"

	"github.com/arl-infra/arl/pkg/apis/arl/install"
	"github.com/arl-infra/arl/pkg/registry/core/event"
	"github.com/arl-infra/arl/pkg/registry/core/pod"
)

var (
	// Scheme knows every type the server encodes and decodes.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes the Scheme's types.
	Codecs = serializer.NewCodecFactory(Scheme)
	// ParameterCodec decodes query parameters, including subresource options.
	ParameterCodec = runtime.NewParameterCodec(Scheme)
)

func init() {
	install.Install(Scheme)
	// warmpools/scale speaks autoscaling/v1 Scale, as Deployments do.
	utilruntime.Must(autoscalingv1.AddToScheme(Scheme))
	// Standalone mode serves core/v1 Events, and its pool pods with
	// pods/exec (see ExtraConfig.ServeEvents).
	utilruntime.Must(event.AddToScheme(Scheme))
	utilruntime.Must(pod.AddToScheme(Scheme))

	// The generic server decodes list and get options as unversioned v1 types.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}

// jsonOnly offers ARL's group in JSON and YAML only: its types have no
// protobuf form. Without it a client that prefers protobuf (the namespace
// controller's delete-collection, "application/vnd.kubernetes.protobuf,
// */*") gets a 406 instead of JSON, and namespaces never finish deleting.
type jsonOnly struct {
	runtime.NegotiatedSerializer
}

// SupportedMediaTypes implements runtime.NegotiatedSerializer.
func (s jsonOnly) SupportedMediaTypes() []runtime.SerializerInfo {
	var out []runtime.SerializerInfo
	for _, info := range s.NegotiatedSerializer.SupportedMediaTypes() {
		if info.MediaType != runtime.ContentTypeProtobuf {
			out = append(out, info)
		}
	}
	return out
}

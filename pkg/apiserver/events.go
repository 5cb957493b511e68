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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/registry/core/event"
	"github.com/arl-infra/arl/pkg/registry/core/pod"
)

// installCoreAPI serves the core group's resources standalone mode has:
// Events and, with a pool runtime (pods non-nil), its pods and pods/exec.
func installCoreAPI(server *genericapiserver.GenericAPIServer, optsGetter generic.RESTOptionsGetter, pods *pool.Agents) error {
	events, err := event.NewREST(Scheme, optsGetter)
	if err != nil {
		return err
	}
	info := genericapiserver.NewDefaultAPIGroupInfo("", Scheme, ParameterCodec, Codecs)
	storage := map[string]rest.Storage{"events": events}
	if pods != nil {
		podREST, execREST := pod.NewREST(pods)
		storage["pods"], storage["pods/exec"] = podREST, execREST
	}
	info.VersionedResourcesStorageMap["v1"] = storage
	return server.InstallLegacyAPIGroup(genericapiserver.DefaultLegacyAPIPrefix, &info)
}

// eventSink writes Events to the server's own core API.
func eventSink(loopback *restclient.Config) (record.EventSink, error) {
	kube, err := kubernetes.NewForConfig(loopback)
	if err != nil {
		return nil, err
	}
	return &typedcorev1.EventSinkImpl{Interface: kube.CoreV1().Events(metav1.NamespaceAll)}, nil
}

// recordEvents is the post-start hook that has broadcaster write its Events
// to sink until the server stops. The hooks start together; ARL's Events
// come only from the work start-arl-pool starts after its API calls and
// the store's verification, well after this hook has begun.
func recordEvents(broadcaster record.EventBroadcaster, sink record.EventSink) genericapiserver.PostStartHookFunc {
	return func(hook genericapiserver.PostStartHookContext) error {
		broadcaster.StartRecordingToSink(sink)
		go func() {
			<-hook.Done()
			broadcaster.Shutdown()
		}()
		return nil
	}
}

// EventScheme knows the kinds ARL's Events are about (the built-in ones and
// ARL's v1alpha1): the scheme of every event recorder the server makes.
func EventScheme() *runtime.Scheme {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(arlv1alpha1.AddToScheme(scheme))
	return scheme
}

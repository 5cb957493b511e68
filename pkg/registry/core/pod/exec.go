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

package pod

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
	"github.com/arl-infra/arl/pkg/registry/execstream"
)

// ExecREST is pods/{name}/exec for local pool pods: the protocol of a
// cluster's pods/exec (WebSocket, v5.channel.k8s.io or v4), served by the
// pod's agent in its executor, as sandboxes/{name}/exec is.
type ExecREST struct {
	pods Pods
}

var _ rest.Connecter = &ExecREST{}

// New implements rest.Storage.
func (r *ExecREST) New() runtime.Object { return &corev1.PodExecOptions{} }

// Destroy implements rest.Storage.
func (r *ExecREST) Destroy() {}

// NewConnectOptions implements rest.Connecter.
func (r *ExecREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &corev1.PodExecOptions{}, false, ""
}

// ConnectMethods implements rest.Connecter: GET for WebSocket clients
// (kubectl 1.30+, the Python client), POST for the rest.
func (r *ExecREST) ConnectMethods() []string { return []string{http.MethodGet, http.MethodPost} }

// Connect implements rest.Connecter.
func (r *ExecREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	podOpts, ok := opts.(*corev1.PodExecOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	if c := podOpts.Container; c != "" && c != arl.ExecutorContainerName {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s: a local pool pod runs commands in one container, %s", c, name, arl.ExecutorContainerName))
	}
	options := &arl.SandboxExecOptions{Stdin: podOpts.Stdin, Stdout: podOpts.Stdout, Stderr: podOpts.Stderr, TTY: podOpts.TTY, Command: podOpts.Command}
	if errs := validation.ValidateSandboxExecOptions(options); len(errs) > 0 {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("PodExecOptions").GroupKind(), name, errs)
	}
	pod, ok := r.pods.Pod(genericapirequest.NamespaceValue(ctx), name)
	if !ok {
		return nil, apierrors.NewNotFound(corev1.Resource("pods"), name)
	}
	if !pod.Ready || pod.Failed || pod.Terminating {
		return nil, apierrors.NewConflict(corev1.Resource("pods"), name, fmt.Errorf("the pod is %s, not Running", toPod(pod).Status.Phase))
	}
	agent, err := r.pods.AgentOfPod(ctx, pod)
	if err != nil {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("the agent of pod %s: %v", name, err))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case wsstream.IsWebSocketRequest(req):
			execstream.ServeWebSocket(w, req, agent, options)
		case req.Header.Get("Upgrade") != "":
			responder.Error(apierrors.NewBadRequest(fmt.Sprintf(
				"pods/exec of a local pod streams over a WebSocket (subprotocol %s or %s), not %s", execstream.ProtocolV5, execstream.ProtocolV4, req.Header.Get("Upgrade"))))
		case options.TTY:
			responder.Error(apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("PodExecOptions").GroupKind(), name, field.ErrorList{
				field.Forbidden(field.NewPath("tty"), "a terminal needs a WebSocket (v5.channel.k8s.io)")}))
		default:
			execstream.ServePlain(w, req, agent, options)
		}
	}), nil
}

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

package storage

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/streaming/pkg/httpstream/wsstream"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
	"github.com/arl-infra/arl/pkg/registry/execstream"
)

// ExecREST is sandboxes/{name}/exec, modelled on pods/exec: a command run
// in the Sandbox, attached to the caller's streams over a WebSocket with
// the channel protocol of pods/exec (v5.channel.k8s.io, v4), so client-go's
// remotecommand and the Python client's stream work against it. Nothing is
// stored: an exec costs no etcd write.
type ExecREST struct{ hostMode }

var _ rest.Connecter = &ExecREST{}

// New implements rest.Storage.
func (r *ExecREST) New() runtime.Object { return &arl.SandboxExecOptions{} }

// Destroy implements rest.Storage.
func (r *ExecREST) Destroy() {}

// NewConnectOptions implements rest.Connecter: the query is the options.
func (r *ExecREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &arl.SandboxExecOptions{}, false, ""
}

// ConnectMethods implements rest.Connecter: WebSocket clients open with
// GET; POST is what SPDY clients and older kubectl use.
func (r *ExecREST) ConnectMethods() []string { return []string{http.MethodGet, http.MethodPost} }

// Connect implements rest.Connecter. What can be refused is refused here,
// as an API error before the upgrade: bad options (422), no such Sandbox
// (404), one that is not Ready (409).
func (r *ExecREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	options, ok := opts.(*arl.SandboxExecOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	if errs := validation.ValidateSandboxExecOptions(options); len(errs) > 0 {
		return nil, apierrors.NewInvalid(arl.Kind("SandboxExecOptions"), name, errs)
	}
	_, agent, err := r.agent(ctx, name)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case wsstream.IsWebSocketRequest(req):
			execstream.ServeWebSocket(w, req, agent, options)
		case req.Header.Get("Upgrade") != "":
			responder.Error(apierrors.NewBadRequest(fmt.Sprintf(
				"sandboxes/exec streams over a WebSocket (subprotocol %s or %s), not %s", execstream.ProtocolV5, execstream.ProtocolV4, req.Header.Get("Upgrade"))))
		case options.TTY:
			responder.Error(apierrors.NewInvalid(arl.Kind("SandboxExecOptions"), name, field.ErrorList{
				field.Forbidden(field.NewPath("tty"), "a terminal needs a WebSocket (v5.channel.k8s.io); a plain request runs without one")}))
		default:
			execstream.ServePlain(w, req, agent, options)
		}
	}), nil
}

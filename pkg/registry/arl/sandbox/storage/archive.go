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
	"errors"
	"fmt"
	"io"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// ArchiveREST is sandboxes/{name}/archive: a directory tree in and out of a
// Sandbox as a tar stream (what `kubectl arl cp` uses). GET packs the file
// or directory at path; PUT (or POST) extracts the body into directory
// path. The agent refuses entries that would land outside it.
type ArchiveREST struct{ hostMode }

var _ rest.Connecter = &ArchiveREST{}

// New implements rest.Storage.
func (r *ArchiveREST) New() runtime.Object { return &arl.SandboxArchiveOptions{} }

// Destroy implements rest.Storage.
func (r *ArchiveREST) Destroy() {}

// NewConnectOptions implements rest.Connecter: the query is the options.
func (r *ArchiveREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &arl.SandboxArchiveOptions{}, false, ""
}

// ConnectMethods implements rest.Connecter.
func (r *ArchiveREST) ConnectMethods() []string {
	return []string{http.MethodGet, http.MethodPut, http.MethodPost}
}

// Connect implements rest.Connecter.
func (r *ArchiveREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	options, ok := opts.(*arl.SandboxArchiveOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	if errs := validation.ValidateSandboxArchiveOptions(options); len(errs) > 0 {
		return nil, apierrors.NewInvalid(arl.Kind("SandboxArchiveOptions"), name, errs)
	}
	_, agent, err := r.agent(ctx, name)
	if err != nil {
		return nil, err
	}
	files := sandboxFiles{name: name, path: options.Path, api: agent.API()}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodGet {
			files.pack(ctx, w, responder)
			return
		}
		files.unpack(ctx, req.Body, responder)
	}), nil
}

// pack streams the agent's tar to the client as it is produced.
func (f sandboxFiles) pack(ctx context.Context, w http.ResponseWriter, responder rest.Responder) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := f.api.PackArchive(ctx, &agentv1.PackArchiveRequest{Path: f.path})
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	// The first chunk (or the agent's refusal) decides the status line.
	first, err := stream.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		responder.Error(f.fileError(err))
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if errors.Is(err, io.EOF) {
		return
	}
	flusher, _ := w.(http.Flusher)
	for chunk := first; ; {
		if _, err := w.Write(chunk.GetContent()); err != nil {
			return // the client went away; cancel ends the agent's stream
		}
		if flusher != nil {
			flusher.Flush()
		}
		if chunk, err = stream.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				panic(http.ErrAbortHandler) // a tar cut short tells the client
			}
			return
		}
	}
}

// unpack streams the request body to the agent, which extracts as it reads.
func (f sandboxFiles) unpack(ctx context.Context, body io.Reader, responder rest.Responder) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := f.api.UnpackArchive(ctx)
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	err = sendChunks(body, &agentv1.UnpackArchiveChunk{Path: f.path}, func(m *agentv1.UnpackArchiveChunk, content []byte) error {
		m.Content = content
		return stream.Send(m)
	}, func() *agentv1.UnpackArchiveChunk { return &agentv1.UnpackArchiveChunk{} })
	var bodyErr *bodyReadError
	if errors.As(err, &bodyErr) {
		responder.Error(apierrors.NewBadRequest(bodyErr.Error()))
		return
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	responder.Object(http.StatusOK, &metav1.Status{
		Status:  metav1.StatusSuccess,
		Code:    http.StatusOK,
		Message: fmt.Sprintf("extracted %d entries (%d bytes of files) into %s", resp.GetEntries(), resp.GetBytes(), resp.GetPath()),
		Details: &metav1.StatusDetails{Name: f.name, Group: arl.GroupName, Kind: "sandboxes"},
	})
}

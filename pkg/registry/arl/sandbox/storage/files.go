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
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// fileChunkBytes is how much of a request body one gRPC message carries:
// a file or archive passes through the server a chunk at a time.
const fileChunkBytes = 256 << 10

// FilesREST is sandboxes/{name}/files: a Sandbox's files through the API.
// GET reads the content (streamed), a stat or a listing; PUT writes the
// request body atomically; POST makes a directory; DELETE removes. RBAC
// tells reading (get) from writing (update, create, delete) by verb.
type FilesREST struct{ hostMode }

var _ rest.Connecter = &FilesREST{}

// New implements rest.Storage.
func (r *FilesREST) New() runtime.Object { return &arl.SandboxFileOptions{} }

// Destroy implements rest.Storage.
func (r *FilesREST) Destroy() {}

// NewConnectOptions implements rest.Connecter: the query is the options.
func (r *FilesREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &arl.SandboxFileOptions{}, false, ""
}

// ConnectMethods implements rest.Connecter.
func (r *FilesREST) ConnectMethods() []string {
	return []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete}
}

// Connect implements rest.Connecter. Which checks apply depends on the
// method, which only the handler sees: it refuses bad options (422), an
// unknown Sandbox (404) and one that is not Ready (409) before any byte of
// the body is read.
func (r *FilesREST) Connect(ctx context.Context, name string, opts runtime.Object, responder rest.Responder) (http.Handler, error) {
	options, ok := opts.(*arl.SandboxFileOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if errs := validation.ValidateSandboxFileOptions(options, req.Method); len(errs) > 0 {
			responder.Error(apierrors.NewInvalid(arl.Kind("SandboxFileOptions"), name, errs))
			return
		}
		_, agent, err := r.agent(ctx, name)
		if err != nil {
			responder.Error(err)
			return
		}
		api := agent.API()
		files := sandboxFiles{name: name, path: options.Path, api: api}
		switch {
		case req.Method == http.MethodGet && options.View == arl.SandboxFileViewStat:
			files.stat(ctx, responder)
		case req.Method == http.MethodGet && options.View == arl.SandboxFileViewList:
			files.list(ctx, options, responder)
		case req.Method == http.MethodGet:
			files.read(ctx, options, w, responder)
		case req.Method == http.MethodPut:
			files.write(ctx, options, req.Body, responder)
		case req.Method == http.MethodPost:
			files.mkdir(ctx, options, responder)
		case req.Method == http.MethodDelete:
			files.remove(ctx, options, responder)
		}
	}), nil
}

// sandboxFiles is one request's path in one Sandbox.
type sandboxFiles struct {
	name string
	path string
	api  agentv1.AgentServiceClient
}

func (f sandboxFiles) stat(ctx context.Context, responder rest.Responder) {
	ctx, cancel := context.WithTimeout(ctx, hostModeTimeout)
	defer cancel()
	st, err := f.api.Stat(ctx, &agentv1.StatRequest{Path: f.path})
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	responder.Object(http.StatusOK, &arl.SandboxFileList{Items: []arl.SandboxFile{toSandboxFile(st)}})
}

func (f sandboxFiles) list(ctx context.Context, options *arl.SandboxFileOptions, responder rest.Responder) {
	ctx, cancel := context.WithTimeout(ctx, hostModeTimeout)
	defer cancel()
	resp, err := f.api.ListDir(ctx, &agentv1.ListDirRequest{Path: f.path, Depth: int32(options.Depth)})
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	list := &arl.SandboxFileList{Items: make([]arl.SandboxFile, 0, len(resp.Entries)), Truncated: resp.Truncated}
	for _, e := range resp.Entries {
		list.Items = append(list.Items, toSandboxFile(e))
	}
	responder.Object(http.StatusOK, list)
}

func (f sandboxFiles) mkdir(ctx context.Context, options *arl.SandboxFileOptions, responder rest.Responder) {
	ctx, cancel := context.WithTimeout(ctx, hostModeTimeout)
	defer cancel()
	st, err := f.api.MakeDir(ctx, &agentv1.MakeDirRequest{Path: f.path, Mode: uint32(options.Mode), Parents: options.Parents})
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	responder.Object(http.StatusCreated, &arl.SandboxFileList{Items: []arl.SandboxFile{toSandboxFile(st)}})
}

func (f sandboxFiles) remove(ctx context.Context, options *arl.SandboxFileOptions, responder rest.Responder) {
	ctx, cancel := context.WithTimeout(ctx, hostModeTimeout)
	defer cancel()
	resp, err := f.api.Remove(ctx, &agentv1.RemoveRequest{Path: f.path, Recursive: options.Recursive})
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	responder.Object(http.StatusOK, &metav1.Status{
		Status:  metav1.StatusSuccess,
		Code:    http.StatusOK,
		Message: fmt.Sprintf("removed %s", resp.Path),
		Details: &metav1.StatusDetails{Name: f.name, Group: arl.GroupName, Kind: "sandboxes"},
	})
}

// read streams the file: the agent's first message (the file as opened)
// decides between an API error and the headers, then the content follows
// chunk by chunk, flushed, so neither side holds the whole file.
func (f sandboxFiles) read(ctx context.Context, options *arl.SandboxFileOptions, w http.ResponseWriter, responder rest.Responder) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := f.api.ReadFileStream(ctx, &agentv1.ReadFileRequest{Path: f.path, Offset: options.Offset, MaxBytes: options.Length})
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	first, err := stream.Recv()
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	info := first.GetInfo()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Arl-File-Size", strconv.FormatInt(info.GetSize(), 10))
	w.Header().Set("X-Arl-File-Mode", fmt.Sprintf("%04o", info.GetMode()))
	if t := info.GetModTimeNanos(); t > 0 {
		w.Header().Set("Last-Modified", time.Unix(0, t).UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	for chunk := first; ; {
		if len(chunk.GetContent()) > 0 {
			if _, err := w.Write(chunk.GetContent()); err != nil {
				return // the client went away; cancel ends the agent's stream
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if chunk, err = stream.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				// The status line is sent: only an incomplete body can
				// tell the client the read failed.
				panic(http.ErrAbortHandler)
			}
			return
		}
	}
}

// write streams the request body to the agent, which renames the file into
// place only once the body ended: a client that disconnects midway leaves
// the old file as it was.
func (f sandboxFiles) write(ctx context.Context, options *arl.SandboxFileOptions, body io.Reader, responder rest.Responder) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := f.api.WriteFile(ctx)
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	msg := &agentv1.WriteFileChunk{Header: &agentv1.WriteFileHeader{Path: f.path, Mode: uint32(options.Mode), CreateParents: options.Parents}}
	err = sendChunks(body, msg, func(m *agentv1.WriteFileChunk, content []byte) error {
		m.Content = content
		return stream.Send(m)
	}, func() *agentv1.WriteFileChunk { return &agentv1.WriteFileChunk{} })
	var bodyErr *bodyReadError
	if errors.As(err, &bodyErr) {
		// cancel (deferred) ends the stream: the agent drops its temp file.
		responder.Error(apierrors.NewBadRequest(bodyErr.Error()))
		return
	}
	info, err := stream.CloseAndRecv()
	if err != nil {
		responder.Error(f.fileError(err))
		return
	}
	responder.Object(http.StatusOK, &arl.SandboxFileList{Items: []arl.SandboxFile{{
		Path: info.GetPath(), Type: arl.SandboxFileTypeFile, Size: info.GetSize(), Mode: int32(info.GetMode()),
	}}})
}

// sendChunks sends first with the body's first chunk (or none: an empty
// body is an empty file), then a message per further chunk. A Send error
// means the agent ended the stream: its status comes with CloseAndRecv, so
// it is returned as errAgentEnded and the caller asks for it.
func sendChunks[M any](body io.Reader, first M, send func(M, []byte) error, next func() M) error {
	buf := make([]byte, fileChunkBytes)
	msg := first
	sent := false
	for {
		n, rerr := io.ReadFull(body, buf)
		if n > 0 || !sent {
			if err := send(msg, buf[:n]); err != nil {
				return errAgentEnded
			}
			sent = true
			msg = next()
		}
		switch {
		case rerr == nil:
		case errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF):
			return nil
		default:
			return &bodyReadError{rerr}
		}
	}
}

// errAgentEnded: the agent ended a client stream early; CloseAndRecv has why.
var errAgentEnded = errors.New("the agent ended the stream")

// bodyReadError is a failure to read the request body: the client's side.
type bodyReadError struct{ err error }

func (e *bodyReadError) Error() string { return "reading the request body: " + e.err.Error() }

// fileError turns an agent's gRPC error about f.path into the API's.
func (f sandboxFiles) fileError(err error) error {
	st := status.Convert(err)
	switch st.Code() {
	case codes.NotFound:
		notFound := apierrors.NewNotFound(arl.Resource("sandboxes/files"), f.path)
		notFound.ErrStatus.Message = fmt.Sprintf("Sandbox %q: %s", f.name, st.Message())
		return notFound
	case codes.InvalidArgument:
		return apierrors.NewInvalid(arl.Kind("SandboxFileOptions"), f.name, field.ErrorList{field.Invalid(field.NewPath("path"), f.path, st.Message())})
	case codes.FailedPrecondition, codes.AlreadyExists:
		return apierrors.NewConflict(arl.Resource("sandboxes/files"), f.path, errors.New(st.Message()))
	case codes.PermissionDenied:
		return apierrors.NewForbidden(arl.Resource("sandboxes/files"), f.path, errors.New(st.Message()))
	case codes.ResourceExhausted:
		return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("Sandbox %q: %s", f.name, st.Message()))
	case codes.Canceled, codes.DeadlineExceeded:
		return apierrors.NewTimeoutError(fmt.Sprintf("Sandbox %q: %s", f.name, st.Message()), 0)
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("the agent of Sandbox %q: %s", f.name, st.Message()))
}

func toSandboxFile(st *agentv1.FileStat) arl.SandboxFile {
	out := arl.SandboxFile{Path: st.GetPath(), Size: st.GetSize(), Mode: int32(st.GetMode()), LinkTarget: st.GetLinkTarget()}
	switch st.GetType() {
	case agentv1.FileStat_FILE:
		out.Type = arl.SandboxFileTypeFile
	case agentv1.FileStat_DIRECTORY:
		out.Type = arl.SandboxFileTypeDirectory
	case agentv1.FileStat_SYMLINK:
		out.Type = arl.SandboxFileTypeSymlink
	default:
		out.Type = arl.SandboxFileTypeOther
	}
	if t := st.GetModTimeNanos(); t > 0 {
		mt := metav1.NewTime(time.Unix(0, t))
		out.ModTime = &mt
	}
	return out
}

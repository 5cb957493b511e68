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

package execstream

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// execEvent is one line of a plain exec's answer (application/x-ndjson):
// output chunks as the command writes them (base64 in JSON), then one line
// with exitCode (and signal), or with error if the command could not run
// or the agent failed midway.
type execEvent struct {
	Stdout   []byte         `json:"stdout,omitempty"`
	Stderr   []byte         `json:"stderr,omitempty"`
	ExitCode *int32         `json:"exitCode,omitempty"`
	Signal   string         `json:"signal,omitempty"`
	Error    *metav1.Status `json:"error,omitempty"`
}

// ndjsonStream writes execEvents, one JSON line each, flushed at once so
// the caller sees output as the command produces it.
type ndjsonStream struct {
	enc     *json.Encoder
	flusher http.Flusher
}

func (s *ndjsonStream) send(ev execEvent) error {
	if err := s.enc.Encode(ev); err != nil {
		return err
	}
	if s.flusher != nil {
		s.flusher.Flush()
	}
	return nil
}

// outputWriter turns one output stream's writes into events.
type outputWriter struct {
	s      *ndjsonStream
	stderr bool
}

func (o outputWriter) Write(p []byte) (int, error) {
	ev := execEvent{Stdout: p}
	if o.stderr {
		ev = execEvent{Stderr: p}
	}
	if err := o.s.send(ev); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ServePlain runs a command without a terminal as one HTTP request and
// streamed response, no upgrade: the request body is its stdin (when
// stdin=true), the answer its output and exit code as NDJSON. It rides an
// HTTP/2 connection the client already has, the hot path of an agent making
// many tool calls.
func ServePlain(w http.ResponseWriter, req *http.Request, agent *client.Client, opts *arl.SandboxExecOptions) {
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	s := &ndjsonStream{enc: json.NewEncoder(w), flusher: flusher}
	stdout, stderr := io.Discard, io.Discard
	if opts.Stdout {
		stdout = outputWriter{s: s}
	}
	if opts.Stderr {
		stderr = outputWriter{s: s, stderr: true}
	}
	res, err := runCommand(ctx, agent, opts, req.Body, stdout, stderr)
	last := execEvent{ExitCode: &res.code, Signal: res.signal}
	if err != nil {
		status := apierrors.NewServiceUnavailable("the sandbox's agent: " + err.Error()).Status()
		var apiStatus apierrors.APIStatus
		if errors.As(err, &apiStatus) {
			status = apiStatus.Status()
		}
		last = execEvent{Error: &status}
	}
	if err := s.send(last); err != nil {
		klog.FromContext(req.Context()).V(2).Info("exec: the caller left before the exit code", "err", err.Error())
	}
}

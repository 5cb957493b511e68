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
	"net/url"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/peers"
)

// LogREST is tasks/{name}/log, modelled on pods/log: what the Task's
// commands print, stdout and stderr interleaved as produced, from the
// replica that runs it, with ?follow=true until the Task finishes. A
// finished Task's log is the output its status kept (stdout, then
// stderr); with ?raw=true it is the exact bytes, which only the replica
// that ran the Task keeps, for a while. docs/api.md has the details.
type LogREST struct {
	tasks    *REST
	executor Executor
	peers    Peers
}

// Peers reach the replica that runs a Task (package peers).
type Peers interface {
	// OpenLog streams tasks/{name}/log, with query, from the replica named
	// runner: peers.ErrUnreachable when there is none to ask, an API error
	// when it answered with one.
	OpenLog(ctx context.Context, runner, namespace, name string, query url.Values) (io.ReadCloser, error)
}

var (
	_ rest.GetterWithOptions = &LogREST{}
	_ rest.StorageMetadata   = &LogREST{}
)

// New implements rest.Storage.
func (r *LogREST) New() runtime.Object { return &arl.Task{} }

// Destroy implements rest.Storage. The store is shared with REST, which destroys it.
func (r *LogREST) Destroy() {}

// ProducesMIMETypes implements rest.StorageMetadata.
func (r *LogREST) ProducesMIMETypes(verb string) []string {
	return []string{"text/plain", "application/octet-stream"}
}

// ProducesObject implements rest.StorageMetadata: a stream of bytes.
func (r *LogREST) ProducesObject(verb string) interface{} { return "" }

// NewGetOptions implements rest.GetterWithOptions.
func (r *LogREST) NewGetOptions() (runtime.Object, bool, string) {
	return &arl.TaskLogOptions{}, false, ""
}

// OverrideMetricsVerb counts log GETs as CONNECT, as pods/log does.
func (r *LogREST) OverrideMetricsVerb(oldVerb string) (newVerb string) { return "CONNECT" }

// Get implements rest.GetterWithOptions.
func (r *LogREST) Get(ctx context.Context, name string, opts runtime.Object) (runtime.Object, error) {
	options, ok := opts.(*arl.TaskLogOptions)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid options object: %#v", opts))
	}
	obj, err := r.tasks.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return &logStreamer{task: obj.(*arl.Task), options: *options, r: r}, nil
}

// logStreamer is a rest.ResourceStreamer of one Task's output.
type logStreamer struct {
	task    *arl.Task
	options arl.TaskLogOptions
	r       *LogREST
}

var _ rest.ResourceStreamer = &logStreamer{}

func (s *logStreamer) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (s *logStreamer) DeepCopyObject() runtime.Object   { panic("a log stream cannot be copied") }

// InputStream implements rest.ResourceStreamer. The reader of a Task this
// replica runs reads the executor's window in place, on the request's
// goroutine: it holds no output of its own, and a client that stops
// reading holds back only itself.
func (s *logStreamer) InputStream(ctx context.Context, apiVersion, acceptHeader string) (io.ReadCloser, bool, string, error) {
	task, follow, raw := s.task, s.options.Follow, s.options.Raw
	contentType := "text/plain"
	if raw {
		contentType = "application/octet-stream"
	}
	if out, ok := s.r.executor.OpenLog(ctx, task, follow, raw); ok {
		return out, follow, contentType, nil
	}
	// Another replica runs it, or ran it moments ago: it holds the output.
	if s.r.peers != nil && task.Status.Runner != "" && (raw || !task.Status.State.IsFinished()) {
		query := url.Values{"follow": {strconv.FormatBool(follow)}, "raw": {strconv.FormatBool(raw)}}
		out, err := s.r.peers.OpenLog(ctx, task.Status.Runner, task.Namespace, task.Name, query)
		switch {
		case err == nil:
			return out, follow, contentType, nil
		case !errors.Is(err, peers.ErrUnreachable):
			return nil, false, "", err
		}
		klog.FromContext(ctx).V(2).Info("Serving a Task's log without its runner", "task", klog.KObj(task), "runner", task.Status.Runner, "err", err)
	}
	if raw {
		return nil, false, "", rawOutputUnavailable(task)
	}
	if follow && !task.Status.State.IsFinished() {
		// Another replica runs it: wait for its result, then serve that.
		finished, err := s.r.executor.Wait(genericapirequest.WithNamespace(ctx, task.Namespace), task.Namespace, task.Name)
		if err != nil {
			return nil, false, "", err
		}
		task = finished
	}
	return io.NopCloser(strings.NewReader(task.Status.Stdout + task.Status.Stderr)), false, contentType, nil
}

// rawOutputUnavailable is the answer to ?raw=true on a replica that does
// not hold the Task's output: it may be running elsewhere (503, retry),
// or finished longer ago than its output is kept (410).
func rawOutputUnavailable(task *arl.Task) error {
	if task.Status.State.IsFinished() {
		//nolint:staticcheck // NewGone is deprecated in favour of Expired, which is about resourceVersions; this output is gone.
		return apierrors.NewGone(fmt.Sprintf("the raw output of Task %q is no longer kept: the replica that ran it (%s) keeps it in memory for a few minutes after the Task finishes; status.stdout and status.stderr keep its tails as text",
			task.Name, task.Status.Runner))
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("the raw output of Task %q is in the memory of the replica that runs it (%s), not this one",
		task.Name, task.Status.Runner))
}

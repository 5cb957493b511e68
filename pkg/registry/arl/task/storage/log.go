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
	"bytes"
	"context"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// LogREST is tasks/{name}/log, modelled on pods/log: what the Task's
// commands print, stdout and stderr interleaved as produced, and with
// ?follow=true until the Task finishes. A finished Task's log is the
// output its status retained.
type LogREST struct {
	tasks    *REST
	executor Executor
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
func (r *LogREST) ProducesMIMETypes(verb string) []string { return []string{"text/plain"} }

// ProducesObject implements rest.StorageMetadata: a stream of text.
func (r *LogREST) ProducesObject(verb string) interface{} { return "" }

// NewGetOptions implements rest.GetterWithOptions.
func (r *LogREST) NewGetOptions() (runtime.Object, bool, string) {
	return &arl.TaskLogOptions{}, false, ""
}

// OverrideMetricsVerb counts log GETs as CONNECT, as pods/log does.
func (r *LogREST) OverrideMetricsVerb(oldVerb string) (newVerb string) { return "CONNECT" }

// Get implements rest.GetterWithOptions.
func (r *LogREST) Get(ctx context.Context, name string, opts runtime.Object) (runtime.Object, error) {
	options, _ := opts.(*arl.TaskLogOptions)
	follow := options != nil && options.Follow
	obj, err := r.tasks.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return &logStreamer{ctx: ctx, task: obj.(*arl.Task), follow: follow, r: r}, nil
}

// logStreamer is a rest.ResourceStreamer of one Task's output.
type logStreamer struct {
	ctx    context.Context
	task   *arl.Task
	follow bool
	r      *LogREST
}

var _ rest.ResourceStreamer = &logStreamer{}

func (s *logStreamer) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (s *logStreamer) DeepCopyObject() runtime.Object   { panic("a log stream cannot be copied") }

// InputStream implements rest.ResourceStreamer.
func (s *logStreamer) InputStream(ctx context.Context, apiVersion, acceptHeader string) (io.ReadCloser, bool, string, error) {
	task := s.task
	if retained, live, stop, ok := s.r.executor.Output(task.Namespace, task.Name); ok {
		if !s.follow {
			stop()
			return io.NopCloser(bytes.NewReader(retained)), false, "text/plain", nil
		}
		pr, pw := io.Pipe()
		go func() {
			defer stop()
			if _, err := pw.Write(retained); err != nil {
				pw.CloseWithError(err)
				return
			}
			for chunk := range live {
				if _, err := pw.Write(chunk); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			pw.Close()
		}()
		return pr, true, "text/plain", nil
	}
	if s.follow && !task.Status.State.IsFinished() {
		// Another replica runs it: wait for its result, then serve that.
		finished, err := s.r.executor.Wait(genericapirequest.WithNamespace(ctx, task.Namespace), task.Namespace, task.Name)
		if err != nil {
			return nil, false, "", err
		}
		task = finished
	}
	return io.NopCloser(bytes.NewReader([]byte(task.Status.Stdout + task.Status.Stderr))), false, "text/plain", nil
}

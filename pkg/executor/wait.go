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

package executor

import (
	"context"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// Wait returns the Task once it has finished, or ctx's error. A Task this
// replica runs is awaited in memory; any other is watched.
func (e *Executor) Wait(ctx context.Context, namespace, name string) (*arl.Task, error) {
	ctx = genericapirequest.WithNamespace(ctx, namespace)
	e.mu.Lock()
	rt := e.running[taskKey(namespace, name)]
	e.mu.Unlock()
	if rt != nil {
		select {
		case <-rt.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if rt.final != nil {
			return rt.final, nil
		}
	}
	for {
		obj, err := e.tasks.Get(ctx, name, &metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		task := obj.(*arl.Task)
		if task.Status.State.IsFinished() {
			return task, nil
		}
		if err := e.watchUntilFinished(ctx, name, task.ResourceVersion); err != nil {
			return nil, err
		}
	}
}

// watchUntilFinished returns when the Task finished or went away (the
// caller re-reads it), from resourceVersion on.
func (e *Executor) watchUntilFinished(ctx context.Context, name, resourceVersion string) error {
	w, err := e.tasks.Watch(ctx, &metainternalversion.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", name),
		ResourceVersion: resourceVersion,
	})
	if err != nil {
		return err
	}
	defer w.Stop()
	stopping := e.lifetime().Done()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stopping:
			return errStopping(name)
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil
			}
			switch ev.Type {
			case watch.Deleted:
				return apierrors.NewNotFound(arl.Resource("tasks"), name)
			case watch.Error:
				return nil
			}
			// The watch cache hands out its objects wrapped (a
			// runtime.CacheableObject); the Task is inside.
			obj := ev.Object
			if cached, ok := obj.(runtime.CacheableObject); ok {
				obj = cached.GetObject()
			}
			if task, ok := obj.(*arl.Task); ok && task.Status.State.IsFinished() {
				return nil
			}
		}
	}
}

// OpenLog opens what this replica holds of a Task's output: the window
// of a Task it runs (or queues), from its oldest byte, up to now or with
// follow until the Task finishes; with finished also the window of a Task
// it ran that it still retains (see retainedLogBytes). ok is false when it
// holds neither. Close the reader when done.
func (e *Executor) OpenLog(ctx context.Context, task *arl.Task, follow, finished bool) (io.ReadCloser, bool) {
	key := taskKey(task.Namespace, task.Name)
	e.mu.Lock()
	rt := e.running[key]
	e.mu.Unlock()
	if rt != nil {
		return rt.output.open(ctx, follow), true
	}
	if !finished {
		return nil, false
	}
	out, ok := e.retained.get(key, task.UID, e.cfg.Clock.Now())
	if !ok {
		return nil, false
	}
	return out.open(ctx, follow), true
}

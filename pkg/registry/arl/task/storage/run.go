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
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/task"
)

// Executor runs Tasks (package executor implements it).
type Executor interface {
	// Admit decides a new Task's first status before it is stored; start
	// hands over the stored Task, undo forgets it if it was not stored.
	Admit(ctx context.Context, task *arl.Task) (status arl.TaskStatus, start func(*arl.Task), undo func())
	// Deleted stops a Task that was deleted and drops its retained output.
	Deleted(namespace, name string)
	// Wait returns the Task once it finished.
	Wait(ctx context.Context, namespace, name string) (*arl.Task, error)
	// OpenLog opens the output this replica holds of a Task (see
	// executor.OpenLog).
	OpenLog(ctx context.Context, task *arl.Task, follow, finished bool) (io.ReadCloser, bool)
}

// Create stores the Task with the status the executor decided and starts
// it at once: no controller picks it up later.
func (r *REST) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	t, ok := obj.(*arl.Task)
	if !ok || r.executor == nil || len(options.DryRun) > 0 || len(r.CreateStrategy.Validate(ctx, obj)) > 0 {
		return r.Store.Create(ctx, obj, createValidation, options)
	}
	if t.Namespace == "" {
		t.Namespace = genericapirequest.NamespaceValue(ctx)
	}
	status, start, undo := r.executor.Admit(ctx, t)
	out, err := r.Store.Create(task.WithInitialStatus(ctx, status), obj, createValidation, options)
	if err != nil {
		if undo != nil {
			undo()
		}
		return nil, err
	}
	if start != nil {
		start(out.(*arl.Task))
	}
	return out, nil
}

// afterDelete stops a deleted Task that is still running, and frees the
// output this replica retains of a finished one.
func (r *REST) afterDelete(obj runtime.Object, _ *metav1.DeleteOptions) {
	if t, ok := obj.(*arl.Task); ok && r.executor != nil {
		r.executor.Deleted(t.Namespace, t.Name)
	}
}

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
	"errors"
	"sync/atomic"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// flakyStatus is the Task status store with an injected fault (a fake: a
// real etcd cannot be made to lose its leader on cue in a unit test): the
// next failures writes fail as they do while etcd elects a new leader.
type flakyStatus struct {
	StatusWriter
	failures atomic.Int32
}

func (f *flakyStatus) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, false, apierrors.NewInternalError(errors.New("etcdserver: leader changed (injected)"))
	}
	return f.StatusWriter.Update(ctx, name, objInfo, createValidation, updateValidation, forceAllowCreate, options)
}

// TestStatusWritesOutlastAnEtcdElection: a Task whose start or result
// write fails for a while still starts and ends Succeeded; before, it
// stayed Pending or Running for good and its tasks/exec clients hung.
func TestStatusWritesOutlastAnEtcdElection(t *testing.T) {
	for _, tc := range []struct {
		name string
		// failStart fails the writes that start the Task, failResult those
		// of its result.
		failStart, failResult int32
	}{
		{name: "the start write fails 3 times", failStart: 3},
		{name: "the result write fails 3 times", failResult: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newExecutorHarness(t, 4)
			flaky := &flakyStatus{StatusWriter: h.tasks.Status}
			h.stores.Bind(h.tasks.Task, flaky, h.sandboxes.Sandbox, h.sandboxes.Status)
			h.createSandbox(t, "sb")

			flaky.failures.Store(tc.failStart)
			h.createTask(t, "sb", "work")
			if got := h.nextStarted(t); got != "work" {
				t.Fatalf("started %s", got)
			}
			h.waitState(t, "work", arl.TaskRunning)
			flaky.failures.Store(tc.failResult)
			h.agent.finish("work")
			h.waitState(t, "work", arl.TaskSucceeded)
			if left := flaky.failures.Load(); left > 0 {
				t.Errorf("%d injected failures never hit", left)
			}
		})
	}
}

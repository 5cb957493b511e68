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
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistrytest "k8s.io/apiserver/pkg/registry/generic/testing"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/registry/arl/registrytest"
)

func newStorage(t *testing.T) TaskStorage {
	opts, scheme := registrytest.NewRESTOptions(t, "tasks")
	storage, err := NewStorage(scheme, opts, nil, nil, nil, CreateChecks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(storage.Task.Store.DestroyFunc)
	return storage
}

func validTask() *arl.Task {
	return &arl.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-task", Namespace: "test"},
		Spec: arl.TaskSpec{
			SandboxRef: "my-workspace",
			Timeout:    &metav1.Duration{Duration: 30 * time.Second},
			Steps: []arl.TaskStep{
				{Name: "write-code", Type: arl.StepFilePatch, Path: "/workspace/hello.py", Content: "print('hi')\n"},
				{Name: "run-code", Type: arl.StepCommand, Command: []string{"python", "/workspace/hello.py"}},
			},
		},
	}
}

func TestCreate(t *testing.T) {
	storage := newStorage(t)
	test := genericregistrytest.New(t, storage.Task.Store)
	invalid := validTask()
	invalid.Spec.Steps[0].Type = "Shell"
	test.TestCreate(validTask(), invalid)
}

func TestUpdate(t *testing.T) {
	storage := newStorage(t)
	test := genericregistrytest.New(t, storage.Task.Store)
	test.TestUpdate(validTask(),
		func(obj runtime.Object) runtime.Object {
			obj.(*arl.Task).Spec.TTLSecondsAfterFinished = ptr.To[int32](60)
			return obj
		},
		func(obj runtime.Object) runtime.Object {
			obj.(*arl.Task).Spec.Steps[1].Command = []string{"false"}
			return obj
		})
}

func TestDelete(t *testing.T) {
	storage := newStorage(t)
	genericregistrytest.New(t, storage.Task.Store).TestDelete(validTask())
}

func TestGetListWatchWithFieldSelectors(t *testing.T) {
	storage := newStorage(t)
	test := genericregistrytest.New(t, storage.Task.Store)
	test.TestGet(validTask())
	test.TestList(validTask())
	test.TestWatch(validTask(),
		[]labels.Set{}, []labels.Set{{"a": "c"}},
		[]fields.Set{{"spec.sandboxRef": "my-workspace"}, {"status.state": "Pending"}},
		[]fields.Set{{"spec.sandboxRef": "other"}, {"status.state": "Succeeded"}})
}

// A finished Task's result is final: a later status write cannot change its state.
func TestFinishedTaskKeepsItsState(t *testing.T) {
	storage := newStorage(t)
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	created, err := storage.Task.Create(ctx, validTask(), rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	update := func(mutate func(*arl.TaskStatus)) error {
		current, err := storage.Task.Get(ctx, "hello-task", &metav1.GetOptions{})
		if err != nil {
			return err
		}
		task := current.(*arl.Task).DeepCopy()
		mutate(&task.Status)
		_, _, err = storage.Status.Update(ctx, task.Name, rest.DefaultUpdatedObjectInfo(task),
			rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
		return err
	}
	if created.(*arl.Task).Status.State != arl.TaskPending {
		t.Fatalf("new Task state = %q, want Pending", created.(*arl.Task).Status.State)
	}
	if err := update(func(s *arl.TaskStatus) {
		s.State = arl.TaskSucceeded
		s.ExitCode = ptr.To[int32](0)
		s.Stdout = "Hello from ARL!\n"
	}); err != nil {
		t.Fatal(err)
	}
	err = update(func(s *arl.TaskStatus) { s.State = arl.TaskRunning })
	if !apierrors.IsInvalid(err) {
		t.Fatalf("re-running a finished Task: got %v, want Invalid", err)
	}
	got, _ := storage.Task.Get(ctx, "hello-task", &metav1.GetOptions{})
	if status := got.(*arl.Task).Status; status.State != arl.TaskSucceeded || status.Stdout != "Hello from ARL!\n" {
		t.Errorf("stored status changed: %+v", status)
	}
}

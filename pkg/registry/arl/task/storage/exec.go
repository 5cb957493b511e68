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
	"io"
	"net/http"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// maxExecBody bounds a tasks/exec request body (a Task with its files).
const maxExecBody = 3 << 20

// ExecREST is tasks/{name}/exec: POST a Task to create and run it, or POST
// nothing to run (or wait for) the stored Task; the answer is the finished
// Task. It is a Connecter, not a NamedCreater: the create handler caps
// every call at 34 s, a Task may run for hours. A client that disconnects
// loses nothing: the Task runs on and its result is stored. A Task in the
// body is authorized and admitted as a `create tasks` (see CreateChecks).
type ExecREST struct {
	tasks    *REST
	executor Executor
	decoder  runtime.Decoder
	gate     *createGate
}

var (
	_ rest.Connecter       = &ExecREST{}
	_ rest.StorageMetadata = &ExecREST{}
)

// New implements rest.Storage.
func (r *ExecREST) New() runtime.Object { return &arl.Task{} }

// Destroy implements rest.Storage. The store is shared with REST, which destroys it.
func (r *ExecREST) Destroy() {}

// ConnectMethods implements rest.Connecter: POST only.
func (r *ExecREST) ConnectMethods() []string { return []string{http.MethodPost} }

// NewConnectOptions implements rest.Connecter: exec takes no options.
func (r *ExecREST) NewConnectOptions() (runtime.Object, bool, string) { return nil, false, "" }

// ProducesMIMETypes implements rest.StorageMetadata.
func (r *ExecREST) ProducesMIMETypes(verb string) []string { return nil }

// ProducesObject implements rest.StorageMetadata: the finished Task.
func (r *ExecREST) ProducesObject(verb string) interface{} { return arlv1alpha1.Task{} }

// Connect implements rest.Connecter.
func (r *ExecREST) Connect(ctx context.Context, name string, _ runtime.Object, responder rest.Responder) (http.Handler, error) {
	if r.executor == nil {
		return nil, apierrors.NewServiceUnavailable("this server runs no Tasks")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		task, err := r.run(ctx, name, req)
		if err != nil {
			responder.Error(err)
			return
		}
		responder.Object(http.StatusOK, task)
	}), nil
}

func (r *ExecREST) run(ctx context.Context, name string, req *http.Request) (*arl.Task, error) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxExecBody+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("reading the request body: %v", err))
	}
	if len(body) > maxExecBody {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("a tasks/exec body is at most %d bytes", maxExecBody))
	}
	if len(body) > 0 {
		if err := r.create(ctx, name, body); err != nil {
			return nil, err
		}
	} else if _, err := r.tasks.Get(ctx, name, &metav1.GetOptions{}); err != nil {
		return nil, err
	}
	return r.executor.Wait(ctx, genericapirequest.NamespaceValue(ctx), name)
}

// create stores the Task of the body and starts it, if the user may create
// Tasks and admission lets this one in. Posting the same Task again (a
// client retrying after a disconnect) waits for the stored one.
func (r *ExecREST) create(ctx context.Context, name string, body []byte) error {
	namespace := genericapirequest.NamespaceValue(ctx)
	if err := r.gate.authorize(ctx, namespace); err != nil {
		return err
	}
	obj, _, err := r.decoder.Decode(body, nil, &arl.Task{})
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("the body is not a Task: %v", err))
	}
	task, ok := obj.(*arl.Task)
	if !ok {
		return apierrors.NewBadRequest(fmt.Sprintf("the body is a %T, not a Task", obj))
	}
	switch {
	case task.Name == "":
		task.Name = name
	case task.Name != name:
		return apierrors.NewBadRequest(fmt.Sprintf("the Task in the body is named %q, the URL names %q", task.Name, name))
	}
	if task.Namespace != "" && task.Namespace != namespace {
		return apierrors.NewBadRequest(fmt.Sprintf("the Task in the body is in namespace %q, the URL in %q", task.Namespace, namespace))
	}
	task.Namespace = namespace
	rest.WipeObjectMetaSystemFields(task)

	options := &metav1.CreateOptions{}
	options.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("CreateOptions"))
	validate, err := r.gate.admit(ctx, task, options)
	if err != nil {
		return err
	}
	if task.Name != name {
		return apierrors.NewBadRequest(fmt.Sprintf("admission renamed the Task %q to %q; tasks/exec runs the Task its URL names", name, task.Name))
	}
	_, err = r.tasks.Create(ctx, task, validate, options)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	existing, getErr := r.tasks.Get(ctx, name, &metav1.GetOptions{})
	if getErr != nil {
		return err
	}
	if !apiequality.Semantic.DeepEqual(existing.(*arl.Task).Spec, task.Spec) {
		return apierrors.NewConflict(arl.Resource("tasks"), name,
			fmt.Errorf("a different Task with this name exists; POST tasks/%s/exec without a body to run or await it", name))
	}
	return nil
}

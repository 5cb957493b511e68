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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// CreateChecks are what the server's handler chain does for a `create
// tasks`: authorization, then mutating and validating admission. The chain
// sees a tasks/exec call as `create tasks/exec` (a CONNECT to admission),
// so exec runs these itself for the Task in its body; a policy on Tasks
// then holds on both paths.
type CreateChecks struct {
	// Authorizer is the server's (delegated in a cluster, the standalone
	// one otherwise); nil: authorization is off, as the handler chain does.
	Authorizer authorizer.Authorizer
	// Admission is the server's admission chain; nil: there is none
	// (standalone mode: its plugins need a kube-apiserver).
	Admission admission.Interface
	// EquivalentResources is the server's registry of equivalent resources,
	// which admission's matchPolicy Equivalent reads; nil: an empty one.
	EquivalentResources runtime.EquivalentResourceMapper
}

// createGate applies CreateChecks to Tasks.
type createGate struct {
	CreateChecks
	// objects lets admission create, default and convert Tasks, as a
	// handler's RequestScope does.
	objects admission.ObjectInterfaces
}

func newCreateGate(checks CreateChecks, scheme *runtime.Scheme) *createGate {
	mapper := checks.EquivalentResources
	if mapper == nil {
		mapper = runtime.NewEquivalentResourceRegistry()
	}
	return &createGate{
		CreateChecks: checks,
		objects: &admission.RuntimeObjectInterfaces{
			ObjectCreater:            scheme,
			ObjectTyper:              scheme,
			ObjectDefaulter:          scheme,
			ObjectConvertor:          scheme,
			EquivalentResourceMapper: mapper,
		},
	}
}

// tasksResource is the resource a `create tasks` of this request's API
// version names.
func tasksResource(ctx context.Context) schema.GroupVersionResource {
	gvr := arlv1alpha1.SchemeGroupVersion.WithResource("tasks")
	if info, ok := genericapirequest.RequestInfoFrom(ctx); ok && info.APIGroup == gvr.Group && info.APIVersion != "" {
		gvr.Version = info.APIVersion
	}
	return gvr
}

// authorize asks the authorizer what a SubjectAccessReview of `create
// tasks` in namespace would: the user may hold create on tasks/exec only.
func (g *createGate) authorize(ctx context.Context, namespace string) error {
	if g.Authorizer == nil {
		return nil
	}
	user, _ := genericapirequest.UserFrom(ctx)
	gvr := tasksResource(ctx)
	attrs := authorizer.AttributesRecord{
		User:            user,
		Verb:            "create",
		Namespace:       namespace,
		APIGroup:        gvr.Group,
		APIVersion:      gvr.Version,
		Resource:        gvr.Resource,
		ResourceRequest: true,
	}
	decision, reason, err := g.Authorizer.Authorize(ctx, attrs)
	if decision == authorizer.DecisionAllow {
		return nil
	}
	if err != nil {
		// As the authorization filter answers an authorizer that failed.
		return apierrors.NewInternalError(fmt.Errorf("authorizing the create of the Task: %w", err))
	}
	why := "tasks/exec with a Task in its body creates that Task"
	if reason != "" {
		why += ": " + reason
	}
	return responsewriters.ForbiddenStatusError(attrs, why)
}

// admit runs mutating admission on task, a create of tasks with options,
// and returns the validating admission the store must run before it
// writes, as the create handler does.
func (g *createGate) admit(ctx context.Context, task *arl.Task, options *metav1.CreateOptions) (rest.ValidateObjectFunc, error) {
	if g.Admission == nil {
		return rest.ValidateAllObjectFunc, nil
	}
	user, _ := genericapirequest.UserFrom(ctx)
	gvr := tasksResource(ctx)
	kind := gvr.GroupVersion().WithKind("Task")
	attrs := admission.NewAttributesRecord(task, nil, kind, task.Namespace, task.Name, gvr, "", admission.Create, options, false, user)
	chain := admission.WithAudit(g.Admission)
	if mutating, ok := chain.(admission.MutationInterface); ok && mutating.Handles(admission.Create) {
		if err := mutating.Admit(ctx, attrs, g.objects); err != nil {
			return nil, err
		}
	}
	return rest.AdmissionToValidateObjectFunc(chain, attrs, g.objects), nil
}

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

package pool

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// Resizer is a Runtime that changes a bound pod's executor resources in
// place (package kube: the pods/resize subresource; package local: the
// local sandbox's cgroup limits). A resized pod is never returned to its
// pool: it is deleted when its Sandbox goes.
type Resizer interface {
	// Resize gives the executor container of a claimed pod these
	// resources and returns once it runs with them (ctx bounds the wait).
	// Errors wrapping ErrCannotResize changed nothing; after any other
	// the pod may be half resized.
	Resize(ctx context.Context, pod *Pod, resources corev1.ResourceRequirements) error
}

var (
	// ErrCannotResize says the runtime cannot apply resources at all (a
	// local runtime without cgroups); the pod is unchanged.
	ErrCannotResize = errors.New("this server cannot resize its sandboxes")
	// ErrResizeInfeasible says the pod's node can never provide the
	// resources (the kubelet's Infeasible).
	ErrResizeInfeasible = errors.New("the node cannot provide these resources")
)

// ReasonResizeFailed is the Ready condition's reason on a Sandbox whose pod
// could not be given its spec.resources when the pool manager bound it.
const ReasonResizeFailed = "ResizeFailed"

// resizeWait bounds how long a bind waits for the kubelet to apply a
// resize: well inside orphanGrace, the time a claimed pod may wait for its
// Sandbox to be stored.
const resizeWait = 10 * time.Second

// executorResources are the resources a Sandbox's executor runs with: the
// pool template's executor resources with the Sandbox's over them, a limit
// without a request defaulting it (as Kubernetes does for a new pod: a
// Sandbox that only lowers a template's limit lowers the request that
// limit had defaulted too). The bool is false when the Sandbox sets none:
// its pod is not resized. The result is checked as a whole; its errors
// name the Sandbox's fields.
func executorResources(pool *arlv1alpha1.WarmPool, own corev1.ResourceRequirements) (corev1.ResourceRequirements, bool, field.ErrorList) {
	if len(own.Requests) == 0 && len(own.Limits) == 0 {
		return corev1.ResourceRequirements{}, false, nil
	}
	var merged corev1.ResourceRequirements
	if executor := arl.ExecutorContainer(&pool.Spec.Template.Spec); executor != nil {
		merged = *executor.Resources.DeepCopy()
	}
	merged.Claims = nil // not the Sandbox's to change; Kubernetes keeps them
	if merged.Requests == nil {
		merged.Requests = corev1.ResourceList{}
	}
	if merged.Limits == nil {
		merged.Limits = corev1.ResourceList{}
	}
	maps.Copy(merged.Requests, own.Requests)
	maps.Copy(merged.Limits, own.Limits)
	for name, limit := range merged.Limits {
		if _, ok := merged.Requests[name]; !ok {
			merged.Requests[name] = limit.DeepCopy()
		}
	}

	var errs field.ErrorList
	path := field.NewPath("spec", "resources")
	for _, name := range slices.Sorted(maps.Keys(merged.Requests)) {
		request := merged.Requests[name]
		limit, ok := merged.Limits[name]
		if !ok || request.Cmp(limit) <= 0 {
			continue
		}
		if _, set := own.Requests[name]; set {
			errs = append(errs, field.Invalid(path.Child("requests").Key(string(name)), request.String(),
				fmt.Sprintf("must be less than or equal to the %s limit %s of WarmPool %q's executor", name, limit.String(), pool.Name)))
		} else {
			errs = append(errs, field.Invalid(path.Child("limits").Key(string(name)), limit.String(),
				fmt.Sprintf("must be greater than or equal to the %s request %s of WarmPool %q's executor", name, request.String(), pool.Name)))
		}
	}
	return merged, true, errs
}

// resizeStatusError is the API's answer to a bind whose resize failed.
func resizeStatusError(sandbox *arl.Sandbox, pod *Pod, err error) error {
	path := field.NewPath("spec", "resources")
	switch {
	case errors.Is(err, ErrCannotResize):
		return apierrors.NewInvalid(arl.Kind("Sandbox"), sandbox.Name, field.ErrorList{field.Forbidden(path, err.Error())})
	case errors.Is(err, ErrResizeInfeasible), apierrors.IsInvalid(err), apierrors.IsForbidden(err):
		return apierrors.NewInvalid(arl.Kind("Sandbox"), sandbox.Name, field.ErrorList{field.Invalid(path, "",
			fmt.Sprintf("pod %s could not be resized: %v", pod.Name, err))})
	case errors.Is(err, context.DeadlineExceeded):
		return apierrors.NewTimeoutError(fmt.Sprintf("pod %s was not resized within %s: %v", pod.Name, resizeWait, err), 1)
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("resizing pod %s: %v", pod.Name, err))
}

// resize gives a claimed pod its Sandbox's resources. On failure the pod
// goes: back to the pool when nothing changed, else deleted.
func (b *Binder) resize(ctx context.Context, pod *Pod, resources corev1.ResourceRequirements) error {
	resizer, ok := b.runtime.(Resizer)
	var err error
	if !ok {
		err = ErrCannotResize
	} else {
		ctx, cancel := context.WithTimeout(ctx, resizeWait)
		err = resizer.Resize(ctx, pod, resources)
		cancel()
	}
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrCannotResize) {
		b.giveBack(pod)
	} else {
		b.discard(pod, "its resize failed")
	}
	return err
}

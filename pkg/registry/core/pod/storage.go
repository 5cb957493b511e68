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

// Package pod serves, in standalone mode, the local pool pods as core/v1
// Pods (get, list) and pods/{name}/exec, so that `kubectl get pods`,
// `kubectl exec -it POD` and the Python client's stream() reach them as
// they would in a cluster. The pods are read-only: the pool makes and
// deletes them.
package pod

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// AddToScheme registers Pods and PodExecOptions in the core group, as the
// same Go type for the internal and v1 versions, with the query decoding
// of PodExecOptions.
func AddToScheme(scheme *runtime.Scheme) error {
	for _, gv := range []schema.GroupVersion{corev1.SchemeGroupVersion, {Group: "", Version: runtime.APIVersionInternal}} {
		scheme.AddKnownTypes(gv, &corev1.Pod{}, &corev1.PodList{}, &corev1.PodExecOptions{})
	}
	return scheme.AddConversionFunc((*url.Values)(nil), (*corev1.PodExecOptions)(nil), func(a, b interface{}, _ conversion.Scope) error {
		return execOptionsFromQuery(*a.(*url.Values), b.(*corev1.PodExecOptions))
	})
}

// execOptionsFromQuery reads pods/exec's query as kube-apiserver does.
func execOptionsFromQuery(q url.Values, out *corev1.PodExecOptions) error {
	for _, f := range []struct {
		name string
		into *bool
	}{{"stdin", &out.Stdin}, {"stdout", &out.Stdout}, {"stderr", &out.Stderr}, {"tty", &out.TTY}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: %w", f.name, v, err)
		}
		*f.into = b
	}
	out.Container = q.Get("container")
	out.Command = q["command"]
	return nil
}

// Pods is where the pods come from: the pool runtime, through the agents.
type Pods interface {
	Pod(namespace, name string) (*pool.Pod, bool)
	Pods() []*pool.Pod
	AgentOfPod(ctx context.Context, pod *pool.Pod) (*client.Client, error)
}

// REST serves the local pool pods, read-only.
type REST struct {
	pods Pods
}

// NewREST returns the pods' storage and their exec subresource.
func NewREST(pods Pods) (*REST, *ExecREST) {
	return &REST{pods: pods}, &ExecREST{pods: pods}
}

var (
	_ rest.Getter               = &REST{}
	_ rest.Lister               = &REST{}
	_ rest.Scoper               = &REST{}
	_ rest.ShortNamesProvider   = &REST{}
	_ rest.SingularNameProvider = &REST{}
)

// New implements rest.Storage.
func (r *REST) New() runtime.Object { return &corev1.Pod{} }

// Destroy implements rest.Storage.
func (r *REST) Destroy() {}

// NewList implements rest.Lister.
func (r *REST) NewList() runtime.Object { return &corev1.PodList{} }

// NamespaceScoped implements rest.Scoper.
func (r *REST) NamespaceScoped() bool { return true }

// ShortNames implements rest.ShortNamesProvider.
func (r *REST) ShortNames() []string { return []string{"po"} }

// GetSingularName implements rest.SingularNameProvider.
func (r *REST) GetSingularName() string { return "pod" }

// Get implements rest.Getter.
func (r *REST) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	p, ok := r.pods.Pod(genericapirequest.NamespaceValue(ctx), name)
	if !ok {
		return nil, apierrors.NewNotFound(corev1.Resource("pods"), name)
	}
	return toPod(p), nil
}

// List implements rest.Lister: the namespace's pods (every namespace's
// without one), by label and by the fields kubectl selects pods on.
func (r *REST) List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error) {
	ns := genericapirequest.NamespaceValue(ctx)
	labelSel, fieldSel := labels.Everything(), fields.Everything()
	if options != nil && options.LabelSelector != nil {
		labelSel = options.LabelSelector
	}
	if options != nil && options.FieldSelector != nil {
		fieldSel = options.FieldSelector
	}
	list := &corev1.PodList{Items: []corev1.Pod{}}
	for _, p := range r.pods.Pods() {
		if ns != "" && p.Namespace != ns {
			continue
		}
		pod := toPod(p)
		if labelSel.Matches(labels.Set(pod.Labels)) && fieldSel.Matches(podFields(pod)) {
			list.Items = append(list.Items, *pod)
		}
	}
	sort.Slice(list.Items, func(i, j int) bool {
		a, b := list.Items[i], list.Items[j]
		return a.Namespace < b.Namespace || (a.Namespace == b.Namespace && a.Name < b.Name)
	})
	return list, nil
}

func podFields(p *corev1.Pod) fields.Set {
	return fields.Set{
		"metadata.name":      p.Name,
		"metadata.namespace": p.Namespace,
		"spec.nodeName":      p.Spec.NodeName,
		"status.phase":       string(p.Status.Phase),
		"status.podIP":       p.Status.PodIP,
	}
}

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

package kube

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
)

// poolIndex indexes pool pods by namespace/pool: a pool's sync lists its
// own pods, not every pool pod of the namespace.
const poolIndex = "arl-pool"

func poolIndexFunc(obj interface{}) ([]string, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	p, ok := m.GetLabels()[arl.LabelPool]
	if !ok {
		return nil, nil
	}
	return []string{m.GetNamespace() + "/" + p}, nil
}

// slimPod keeps of a pod what the pool reads (toPod, failure, Resize):
// its metadata but managedFields, the executor's name, where it runs and
// its status. A pool pod's spec and managedFields are most of its bytes,
// and the cache holds every pool pod: at 20,000 pods that was about
// 250 MB of arl-apiserver's heap (make test-scale).
func slimPod(obj interface{}) (interface{}, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok { // a tombstone: its pod was slimmed when it was cached
		return obj, nil
	}
	slim := &corev1.Pod{TypeMeta: pod.TypeMeta, ObjectMeta: pod.ObjectMeta}
	slim.ManagedFields = nil
	slim.Spec.NodeName, slim.Spec.RestartPolicy = pod.Spec.NodeName, pod.Spec.RestartPolicy
	for _, c := range pod.Spec.Containers {
		slim.Spec.Containers = append(slim.Spec.Containers, corev1.Container{Name: c.Name})
	}
	slim.Status = corev1.PodStatus{
		Phase: pod.Status.Phase, Reason: pod.Status.Reason, Message: pod.Status.Message,
		PodIP: pod.Status.PodIP, Conditions: pod.Status.Conditions, ObservedGeneration: pod.Status.ObservedGeneration,
		InitContainerStatuses: slimStatuses(pod.Status.InitContainerStatuses),
		ContainerStatuses:     slimStatuses(pod.Status.ContainerStatuses),
	}
	return slim, nil
}

func slimStatuses(statuses []corev1.ContainerStatus) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for _, s := range statuses {
		out = append(out, corev1.ContainerStatus{Name: s.Name, State: s.State, Ready: s.Ready, RestartCount: s.RestartCount})
	}
	return out
}

// podViews remembers each pod's conversion at its resourceVersion. A
// pool's sync reads all its pods, and every bind changes one of them and
// syncs the pool again: converting (and allocating) only what changed
// keeps a sync's cost at a lookup per pod. The views are shared, as
// pool.Runtime's pods may be: read-only.
type podViews struct {
	mu    sync.Mutex
	views map[types.UID]*pool.Pod
}

// view returns p's conversion, converting it only if it changed.
func (v *podViews) view(p *corev1.Pod) *pool.Pod {
	if p.ResourceVersion == "" { // not from an API server: nothing to key on
		return toPod(p)
	}
	v.mu.Lock()
	cached, ok := v.views[p.UID]
	v.mu.Unlock()
	if ok && cached.Version == p.ResourceVersion {
		return cached
	}
	converted := toPod(p)
	v.mu.Lock()
	if v.views == nil {
		v.views = map[types.UID]*pool.Pod{}
	}
	v.views[p.UID] = converted
	v.mu.Unlock()
	return converted
}

// forget drops a deleted pod.
func (v *podViews) forget(uid types.UID) {
	v.mu.Lock()
	delete(v.views, uid)
	v.mu.Unlock()
}

func (v *podViews) len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.views)
}

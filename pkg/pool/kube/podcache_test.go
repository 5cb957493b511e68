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
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
)

func poolPod(namespace, name, poolName, version string, state pool.PodState) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID(namespace + "/" + name), ResourceVersion: version,
			Labels:        map[string]string{arl.LabelPool: poolName, arl.LabelState: string(state)},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "arl-apiserver", Operation: metav1.ManagedFieldsOperationApply}}},
		Status: corev1.PodStatus{PodIP: "10.0.0.1", Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
}

// TestPodViews: a pod is converted again when its resourceVersion moves,
// not otherwise.
func TestPodViews(t *testing.T) {
	var v podViews
	idle := poolPod("ns", "p-1", "pool", "10", pool.PodIdle)
	if got := v.view(idle); got.State != pool.PodIdle || !got.Ready {
		t.Fatalf("first view = %+v, want an idle Ready pod", got)
	}
	if first, again := v.view(idle), v.view(idle); first != again || !cmp.Equal(again, toPod(idle)) {
		t.Errorf("the same version was converted twice or differently:\n%s", cmp.Diff(toPod(idle), again))
	}

	allocated := idle.DeepCopy()
	allocated.ResourceVersion = "11"
	allocated.Labels[arl.LabelState], allocated.Labels[arl.LabelSandbox] = string(pool.PodAllocated), "sb"
	if got := v.view(allocated); got.State != pool.PodAllocated || got.Sandbox != "sb" || got.Version != "11" {
		t.Errorf("view at a new resourceVersion = %+v, want allocated to sb at 11", got)
	}
	// Same version, different content: only an object that is not from an
	// API server can do that, and those are not cached at all.
	unversioned := idle.DeepCopy()
	unversioned.ResourceVersion = ""
	v.view(unversioned)
	unversioned.Labels[arl.LabelState] = string(pool.PodAllocated)
	if got := v.view(unversioned); got.State != pool.PodAllocated {
		t.Errorf("a pod without a resourceVersion was served from the cache: %+v", got)
	}

	v.forget(idle.UID)
	if n := v.len(); n != 0 {
		t.Errorf("%d views after the only versioned pod was forgotten, want 0", n)
	}
}

// TestListReadsOnlyThePool: List reads the pool's own pods through the
// index, with the same view as the pods' conversion; the cache keeps no
// managedFields.
func TestListReadsOnlyThePool(t *testing.T) {
	objs := []runtime.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "arl-system", UID: "arl-system-uid"}}}
	var want []string
	for i := 0; i < 5; i++ {
		objs = append(objs, poolPod("ns", fmt.Sprintf("a-%d", i), "a", "", pool.PodIdle))
		objs = append(objs, poolPod("ns", fmt.Sprintf("b-%d", i), "b", "", pool.PodIdle))
		objs = append(objs, poolPod("other", fmt.Sprintf("a-%d", i), "a", "", pool.PodIdle))
		want = append(want, fmt.Sprintf("a-%d", i))
	}
	client := fake.NewClientset(objs...)
	r, err := New(Options{Client: client, SidecarImage: "arl-sidecar:test", Namespace: "arl-system", Identity: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := r.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	go func() { _ = r.Run(ctx, func(*pool.Pod, bool) {}) }()
	if !cache.WaitForCacheSync(ctx.Done(), r.HasSynced) {
		t.Fatal("the pod cache did not sync")
	}
	var got []string
	for _, p := range r.List("ns", "a") {
		if p.Namespace != "ns" || p.Pool != "a" {
			t.Errorf("List(ns, a) returned %s of pool %s", p.Key(), p.Pool)
		}
		got = append(got, p.Name)
	}
	sort.Strings(got)
	if !cmp.Equal(got, want) {
		t.Errorf("List(ns, a) = %v, want %v", got, want)
	}
	if n := len(r.ListAll()); n != 15 {
		t.Errorf("ListAll = %d pods, want 15", n)
	}
	cached, err := r.lister.Pods("ns").Get("a-0")
	if err != nil {
		t.Fatal(err)
	}
	if len(cached.ManagedFields) != 0 || cached.Status.PodIP == "" {
		t.Errorf("the pod cache keeps managedFields (%v) or lost the status (%+v)", cached.ManagedFields, cached.Status)
	}
}

// TestSlimPodKeepsWhatThePoolReads: the pool's view of a slimmed pod is
// that of the whole pod, in every state the view distinguishes, and the
// executor is still found for a resize; the rest of the spec is gone.
func TestSlimPodKeepsWhatThePoolReads(t *testing.T) {
	full := func(mutate func(*corev1.Pod)) *corev1.Pod {
		p := poolPod("ns", "p", "pool", "7", pool.PodAllocated)
		p.Generation = 2
		p.Annotations = map[string]string{AnnotationClaimedAt: "2026-12-03T09:00:00.5Z"}
		p.Labels[arl.LabelSandbox] = "sb"
		p.Spec = corev1.PodSpec{NodeName: "node-1", RestartPolicy: corev1.RestartPolicyNever,
			Volumes:    []corev1.Volume{{Name: "workspace"}},
			Containers: []corev1.Container{{Name: arl.ExecutorContainerName, Image: "python", Env: []corev1.EnvVar{{Name: "A", Value: "b"}}}, {Name: "sidecar"}}}
		p.Status.ObservedGeneration = 2
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: arl.ExecutorContainerName, Image: "python", ImageID: "sha256:x"}}
		mutate(p)
		return p
	}
	for name, p := range map[string]*corev1.Pod{
		"ready": full(func(*corev1.Pod) {}),
		"not ready": full(func(p *corev1.Pod) {
			p.Status.Conditions[0].Status = corev1.ConditionFalse
			p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
		}),
		"image pull": full(func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State.Waiting = &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "no such image"}
		}),
		"exited": full(func(p *corev1.Pod) {
			p.Status.ContainerStatuses[0].State.Terminated = &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}
		}),
		"evicted": full(func(p *corev1.Pod) {
			p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "low memory"
		}),
		"terminating": full(func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: time.Now()} }),
	} {
		t.Run(name, func(t *testing.T) {
			obj, err := slimPod(p.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			slim := obj.(*corev1.Pod)
			if diff := cmp.Diff(toPod(p), toPod(slim)); diff != "" {
				t.Errorf("the pool's view changed (-whole +slim):\n%s", diff)
			}
			if arl.ExecutorContainer(&slim.Spec) == nil {
				t.Error("Resize would not find the executor")
			}
			if len(slim.Spec.Volumes) != 0 || slim.Spec.Containers[0].Image != "" || slim.Status.ContainerStatuses[0].ImageID != "" {
				t.Errorf("the spec was kept: %+v", slim.Spec)
			}
		})
	}
}

// BenchmarkPoolList is a pool's sync reading 10,000 unchanged pods: with
// the views, a lookup each; "convert" is what every sync paid before.
func BenchmarkPoolList(b *testing.B) {
	pods := make([]*corev1.Pod, 10000)
	for i := range pods {
		pods[i] = poolPod("ns", fmt.Sprintf("p-%d", i), "pool", "1", pool.PodIdle)
		pods[i].Annotations = map[string]string{AnnotationClaimedAt: time.Now().Format(time.RFC3339Nano)}
	}
	b.Run("convert", func(b *testing.B) {
		for b.Loop() {
			for _, p := range pods {
				_ = toPod(p)
			}
		}
	})
	b.Run("views", func(b *testing.B) {
		var v podViews
		for b.Loop() {
			for _, p := range pods {
				_ = v.view(p)
			}
		}
	})
}

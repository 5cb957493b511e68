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

package apiserver

import (
	"context"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

func newTask(name, sandbox string) *arlv1alpha1.Task {
	return &arlv1alpha1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: arlv1alpha1.TaskSpec{
			SandboxRef: sandbox,
			Steps: []arlv1alpha1.TaskStep{
				{Name: "run", Type: arlv1alpha1.StepCommand, Command: []string{"echo", name}},
			},
		},
	}
}

// TestClientset drives the server with the generated clientset: create,
// update, status, list with selectors, watch.
func TestClientset(t *testing.T) {
	server := framework.StartStandalone(t)
	cs := server.Clientset().ArlV1alpha1()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := metav1.NamespaceDefault

	pool, err := cs.WarmPools(ns).Create(ctx, &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool"},
		Spec: arlv1alpha1.WarmPoolSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: arl.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"}}},
		}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *pool.Spec.Replicas != 1 || pool.Spec.ReusePolicy != arlv1alpha1.ReusePolicyDelete || pool.Generation != 1 {
		t.Errorf("defaults not applied: replicas=%d reusePolicy=%q generation=%d", *pool.Spec.Replicas, pool.Spec.ReusePolicy, pool.Generation)
	}

	// Scale through the typed client; the pool manager writes the pool's
	// status meanwhile, so the read-modify-write retries on conflicts.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := cs.WarmPools(ns).GetScale(ctx, "python-pool", metav1.GetOptions{})
		if err != nil {
			return err
		}
		scale.Spec.Replicas = 4
		_, err = cs.WarmPools(ns).UpdateScale(ctx, "python-pool", scale, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if pool, _ = cs.WarmPools(ns).Get(ctx, "python-pool", metav1.GetOptions{}); *pool.Spec.Replicas != 4 || pool.Generation != 2 {
		t.Errorf("after UpdateScale: replicas=%d generation=%d, want 4, 2", *pool.Spec.Replicas, pool.Generation)
	}

	// Sandboxes of a pool that does not exist wait, and so do their Tasks.
	for _, name := range []string{"sb-a", "sb-b"} {
		if _, err := cs.Sandboxes(ns).Create(ctx, &arlv1alpha1.Sandbox{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: arlv1alpha1.SandboxSpec{PoolRef: "no-such-pool"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// Watch tasks of one sandbox only, then create tasks of two sandboxes.
	w, err := cs.Tasks(ns).Watch(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.sandboxRef", "sb-a").String()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, task := range []*arlv1alpha1.Task{newTask("a1", "sb-a"), newTask("b1", "sb-b"), newTask("a2", "sb-a")} {
		created, err := cs.Tasks(ns).Create(ctx, task, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if created.Status.State != arlv1alpha1.TaskPending {
			t.Errorf("new task %s state = %q, want Pending", task.Name, created.Status.State)
		}
	}
	var seen []string
	for len(seen) < 2 {
		select {
		case ev := <-w.ResultChan():
			if ev.Type != watch.Added {
				t.Fatalf("unexpected event %s %v", ev.Type, ev.Object)
			}
			seen = append(seen, ev.Object.(*arlv1alpha1.Task).Name)
		case <-ctx.Done():
			t.Fatalf("watch saw only %v", seen)
		}
	}
	if seen[0] != "a1" || seen[1] != "a2" {
		t.Errorf("watch with spec.sandboxRef=sb-a saw %v, want [a1 a2]", seen)
	}

	// Status goes through the status subresource, which keeps the spec.
	task, err := cs.Tasks(ns).Get(ctx, "a1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	task.Status.State = arlv1alpha1.TaskSucceeded
	task.Status.ExitCode = ptr.To[int32](0)
	task.Status.Stdout = "a1\n"
	task.Spec.SandboxRef = "sb-z"
	updated, err := cs.Tasks(ns).UpdateStatus(ctx, task, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Spec.SandboxRef != "sb-a" || updated.Status.Stdout != "a1\n" || *updated.Status.ExitCode != 0 {
		t.Errorf("UpdateStatus: sandboxRef=%q stdout=%q exitCode=%d", updated.Spec.SandboxRef, updated.Status.Stdout, *updated.Status.ExitCode)
	}
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Modified || ev.Object.(*arlv1alpha1.Task).Status.State != arlv1alpha1.TaskSucceeded {
			t.Errorf("watch event after status update: %s %v", ev.Type, ev.Object)
		}
	case <-ctx.Done():
		t.Fatal("no watch event for the status update")
	}

	// A spec update through the main resource cannot write status.
	updated.Spec.TTLSecondsAfterFinished = ptr.To[int32](60)
	updated.Status.Stdout = "forged"
	updated, err = cs.Tasks(ns).Update(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if updated.Status.Stdout != "a1\n" || *updated.Spec.TTLSecondsAfterFinished != 60 || updated.Generation != 2 {
		t.Errorf("Update: stdout=%q ttl=%d generation=%d", updated.Status.Stdout, *updated.Spec.TTLSecondsAfterFinished, updated.Generation)
	}

	// List with field and label selectors.
	list, err := cs.Tasks(ns).List(ctx, metav1.ListOptions{FieldSelector: "status.state=Pending"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 {
		t.Errorf("status.state=Pending listed %d tasks, want 2 (a2, b1)", len(list.Items))
	}
	if _, err := cs.Tasks(ns).Patch(ctx, "b1", "application/merge-patch+json", []byte(`{"metadata":{"labels":{"team":"rl"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	list, err = cs.Tasks(ns).List(ctx, metav1.ListOptions{LabelSelector: "team=rl"})
	if err != nil || len(list.Items) != 1 || list.Items[0].Name != "b1" {
		t.Errorf("label selector team=rl: %v %v", err, list)
	}

	// Invalid input answers 422 with a cause per field, nothing stored.
	_, err = cs.Tasks(ns).Create(ctx, &arlv1alpha1.Task{ObjectMeta: metav1.ObjectMeta{Name: "bad"}, Spec: arlv1alpha1.TaskSpec{SandboxRef: "x"}}, metav1.CreateOptions{})
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Code != http.StatusUnprocessableEntity || len(status.Status().Details.Causes) != 1 ||
		status.Status().Details.Causes[0].Field != "spec.steps" {
		t.Errorf("invalid create: %#v", err)
	}
	if _, err := cs.Tasks(ns).Get(ctx, "bad", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("invalid Task was stored: %v", err)
	}
}

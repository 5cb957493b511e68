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

// Package tasks runs Tasks on the standalone server's local runtime: the
// manual's examples and the upstream defects, each as a test.
package tasks

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlclient "github.com/arl-infra/arl/pkg/generated/clientset/versioned/typed/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

const ns = metav1.NamespaceDefault

type env struct {
	t      *testing.T
	server *framework.Standalone
	arl    arlclient.ArlV1alpha1Interface
	rest   rest.Interface
	ctx    context.Context
}

// newEnv starts a server with a pool of `idle` pods and Ready Sandboxes.
func newEnv(t *testing.T, idle int32, sandboxes ...string) *env {
	return newEnvWith(t, nil, idle, sandboxes...)
}

// newEnvWith is newEnv with extra arl-apiserver flags.
func newEnvWith(t *testing.T, args []string, idle int32, sandboxes ...string) *env {
	server := framework.StartStandalone(t, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	cs := server.Clientset()
	e := &env{t: t, server: server, arl: cs.ArlV1alpha1(), rest: cs.ArlV1alpha1().RESTClient(), ctx: ctx}
	_, err := e.arl.WarmPools(ns).Create(ctx, &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool"},
		Spec: arlv1alpha1.WarmPoolSpec{
			Replicas: ptr.To(idle),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: arl.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"},
			}}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range sandboxes {
		e.sandbox(name, true)
	}
	return e
}

// sandbox creates a Sandbox and waits until it is Ready.
func (e *env) sandbox(name string, keepAlive bool) {
	e.t.Helper()
	_, err := e.arl.Sandboxes(ns).Create(e.ctx, &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: "python-pool", KeepAlive: keepAlive},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	framework.Eventually(e.t, 2*time.Minute, "Sandbox "+name+" Ready", func() bool {
		sb, err := e.arl.Sandboxes(ns).Get(e.ctx, name, metav1.GetOptions{})
		return err == nil && sb.Status.Phase == arlv1alpha1.SandboxReady
	})
}

func command(name string, argv ...string) arlv1alpha1.TaskStep {
	return arlv1alpha1.TaskStep{Name: name, Type: arlv1alpha1.StepCommand, Command: argv}
}

func bash(name, script string) arlv1alpha1.TaskStep {
	return command(name, "bash", "-c", script)
}

func filePatch(name, path, content string) arlv1alpha1.TaskStep {
	return arlv1alpha1.TaskStep{Name: name, Type: arlv1alpha1.StepFilePatch, Path: path, Content: content}
}

func newTask(name, sandbox string, steps ...arlv1alpha1.TaskStep) *arlv1alpha1.Task {
	return &arlv1alpha1.Task{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       arlv1alpha1.TaskSpec{SandboxRef: sandbox, Steps: steps},
	}
}

// exec runs a Task through tasks/{name}/exec and returns the finished Task.
func (e *env) exec(task *arlv1alpha1.Task) *arlv1alpha1.Task {
	e.t.Helper()
	out, err := e.execCtx(e.ctx, task)
	if err != nil {
		e.t.Fatalf("exec %s: %v", task.Name, err)
	}
	return out
}

func (e *env) execCtx(ctx context.Context, task *arlv1alpha1.Task) (*arlv1alpha1.Task, error) {
	task.APIVersion, task.Kind = arlv1alpha1.SchemeGroupVersion.String(), "Task"
	body, err := json.Marshal(task)
	if err != nil {
		return nil, err
	}
	out := &arlv1alpha1.Task{}
	err = e.rest.Post().Namespace(ns).Resource("tasks").Name(task.Name).SubResource("exec").
		Body(body).SetHeader("Content-Type", "application/json").Do(ctx).Into(out)
	return out, err
}

// waitTask waits until a stored Task finished.
func (e *env) waitTask(name string) *arlv1alpha1.Task {
	e.t.Helper()
	var task *arlv1alpha1.Task
	framework.Eventually(e.t, 3*time.Minute, "Task "+name+" finished", func() bool {
		var err error
		task, err = e.arl.Tasks(ns).Get(e.ctx, name, metav1.GetOptions{})
		return err == nil && (task.Status.State == arlv1alpha1.TaskSucceeded || task.Status.State == arlv1alpha1.TaskFailed)
	})
	return task
}

func reason(task *arlv1alpha1.Task) string {
	if c := meta.FindStatusCondition(task.Status.Conditions, arlv1alpha1.TaskConditionComplete); c != nil {
		return c.Reason
	}
	return ""
}

func mustState(t *testing.T, task *arlv1alpha1.Task, state arlv1alpha1.TaskState) {
	t.Helper()
	if task.Status.State != state {
		t.Fatalf("task %s: state %s (%s), want %s\nstdout: %q\nstderr: %q\nsteps: %+v", task.Name, task.Status.State,
			reason(task), state, task.Status.Stdout, task.Status.Stderr, task.Status.Steps)
	}
}

func exitCode(task *arlv1alpha1.Task) string {
	if task.Status.ExitCode == nil {
		return "<nil>"
	}
	return fmt.Sprint(*task.Status.ExitCode)
}

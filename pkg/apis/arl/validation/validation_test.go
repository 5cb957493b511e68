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

package validation

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// errorsOf reduces an ErrorList to "type field" strings, the part of an
// error a client relies on.
func errorsOf(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

func validPool() *arl.WarmPool {
	return &arl.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool", Namespace: "default"},
		Spec: arl.WarmPoolSpec{
			Replicas:    3,
			ReusePolicy: arl.ReusePolicyDelete,
			Network:     arl.PoolNetwork{Egress: arl.PoolEgress{Mode: arl.EgressInternet}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: arl.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"}},
			}}},
		},
	}
}

func TestValidateWarmPool(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*arl.WarmPool)
		want   []string
	}{
		{name: "the manual's pool is valid", mutate: func(*arl.WarmPool) {}},
		{name: "zero replicas is valid", mutate: func(p *arl.WarmPool) { p.Spec.Replicas = 0 }},
		{name: "negative replicas", mutate: func(p *arl.WarmPool) { p.Spec.Replicas = -1 },
			want: []string{"FieldValueInvalid spec.replicas"}},
		{name: "name with a dot is not a DNS label", mutate: func(p *arl.WarmPool) { p.Name = "python-3.9-std" },
			want: []string{"FieldValueInvalid metadata.name"}},
		{name: "unknown reuse policy", mutate: func(p *arl.WarmPool) { p.Spec.ReusePolicy = "Recycle" },
			want: []string{"FieldValueNotSupported spec.reusePolicy"}},
		{name: "no containers", mutate: func(p *arl.WarmPool) { p.Spec.Template.Spec.Containers = nil },
			want: []string{"FieldValueRequired spec.template.spec.containers"}},
		{name: "the manual's own sidecar container is accepted (ARL's replaces it)", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Containers = append(p.Spec.Template.Spec.Containers, corev1.Container{Name: arl.SidecarContainerName, Image: "arl-sidecar:latest",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "grpc", ContainerPort: 9090}}})
		}},
		{name: "a sidecar container first, the executor second", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Containers = append([]corev1.Container{{Name: arl.SidecarContainerName, Image: "x"}}, p.Spec.Template.Spec.Containers...)
		}},
		{name: "only a sidecar container leaves no executor", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Containers = []corev1.Container{{Name: arl.SidecarContainerName, Image: "x"}}
		}, want: []string{"FieldValueRequired spec.template.spec.containers"}},
		{name: "two sidecar containers", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Containers = append(p.Spec.Template.Spec.Containers,
				corev1.Container{Name: arl.SidecarContainerName, Image: "x"}, corev1.Container{Name: arl.SidecarContainerName, Image: "x"})
		}, want: []string{"FieldValueDuplicate spec.template.spec.containers[2].name"}},
		{name: "init container named sidecar is reserved", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.InitContainers = []corev1.Container{{Name: arl.SidecarContainerName, Image: "x"}}
		}, want: []string{"FieldValueInvalid spec.template.spec.initContainers[0].name"}},
		{name: "container named arl-install is reserved", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Containers = append(p.Spec.Template.Spec.Containers, corev1.Container{Name: arl.InstallContainerName, Image: "x"})
		}, want: []string{"FieldValueInvalid spec.template.spec.containers[1].name"}},
		{name: "duplicate container and missing image", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Spec.Containers = append(p.Spec.Template.Spec.Containers, corev1.Container{Name: arl.ExecutorContainerName})
		}, want: []string{"FieldValueDuplicate spec.template.spec.containers[1].name", "FieldValueRequired spec.template.spec.containers[1].image"}},
		{name: "ARL's own pod labels are reserved", mutate: func(p *arl.WarmPool) {
			p.Spec.Template.Labels = map[string]string{arl.LabelPool: "other", "team": "rl"}
		}, want: []string{"FieldValueInvalid spec.template.metadata.labels[" + arl.LabelPool + "]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool := validPool()
			tc.mutate(pool)
			if diff := cmp.Diff(tc.want, errorsOf(ValidateWarmPool(pool, WarmPoolOptions{}))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func validSandbox() *arl.Sandbox {
	return &arl.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: "my-workspace", Namespace: "default"},
		Spec:       arl.SandboxSpec{PoolRef: "python-pool", KeepAlive: true},
	}
}

func TestValidateSandbox(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*arl.Sandbox)
		want   []string
	}{
		{name: "the manual's sandbox is valid", mutate: func(*arl.Sandbox) {}},
		{name: "empty poolRef", mutate: func(s *arl.Sandbox) { s.Spec.PoolRef = "" },
			want: []string{"FieldValueRequired spec.poolRef"}},
		{name: "poolRef not a DNS label", mutate: func(s *arl.Sandbox) { s.Spec.PoolRef = "Python_Pool" },
			want: []string{"FieldValueInvalid spec.poolRef"}},
		{name: "zero and negative timeouts", mutate: func(s *arl.Sandbox) {
			s.Spec.IdleTimeoutSeconds = ptr.To[int32](0)
			s.Spec.MaxLifetimeSeconds = ptr.To[int32](-5)
		}, want: []string{"FieldValueInvalid spec.idleTimeoutSeconds", "FieldValueInvalid spec.maxLifetimeSeconds"}},
		{name: "name too long for a label value", mutate: func(s *arl.Sandbox) { s.Name = strings.Repeat("a", 64) },
			want: []string{"FieldValueInvalid metadata.name"}},
		{name: "the manual's resources are valid", mutate: func(s *arl.Sandbox) {
			s.Spec.Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("2Gi")},
			}
		}},
		{name: "resources that cannot be resized in place, zero or inverted", mutate: func(s *arl.Sandbox) {
			s.Spec.Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("0"), corev1.ResourceMemory: resource.MustParse("2Gi"),
					corev1.ResourceEphemeralStorage: resource.MustParse("1Gi")},
				Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi"), "nvidia.com/gpu": resource.MustParse("1")},
				Claims: []corev1.ResourceClaim{{Name: "gpu"}},
			}
		}, want: []string{
			"FieldValueInvalid spec.resources.requests[cpu]",
			"FieldValueNotSupported spec.resources.requests[ephemeral-storage]",
			"FieldValueNotSupported spec.resources.limits[nvidia.com/gpu]",
			"FieldValueInvalid spec.resources.requests[memory]",
			"FieldValueForbidden spec.resources.claims",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sandbox := validSandbox()
			tc.mutate(sandbox)
			if diff := cmp.Diff(tc.want, errorsOf(ValidateSandbox(sandbox))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateSandboxUpdate(t *testing.T) {
	old := validSandbox()
	old.ResourceVersion = "1"
	changed := old.DeepCopy()
	changed.Spec.PoolRef = "other-pool"
	changed.Spec.KeepAlive = false
	changed.Spec.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}
	if diff := cmp.Diff([]string{"FieldValueInvalid spec.poolRef", "FieldValueInvalid spec.resources"}, errorsOf(ValidateSandboxUpdate(changed, old))); diff != "" {
		t.Errorf("poolRef and resources must be immutable (-want +got):\n%s", diff)
	}
}

func validTask() *arl.Task {
	return &arl.Task{
		ObjectMeta: metav1.ObjectMeta{Name: "hello-task", Namespace: "default"},
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

func TestValidateTask(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*arl.Task)
		want   []string
	}{
		{name: "the manual's task is valid", mutate: func(*arl.Task) {}},
		{name: "python-style step names are valid", mutate: func(task *arl.Task) {
			task.Spec.Steps[0].Name, task.Spec.Steps[1].Name = "write_script", "run_script"
		}},
		{name: "the manual SDK's container and traceID are valid", mutate: func(task *arl.Task) {
			task.Spec.Steps[0].Container, task.Spec.Steps[1].Container = arl.StepContainerSidecar, arl.StepContainerExecutor
			task.Spec.TraceID = strings.Repeat("f", MaxTraceIDLength)
		}},
		{name: "unknown step container", mutate: func(task *arl.Task) { task.Spec.Steps[1].Container = "gpu" },
			want: []string{"FieldValueNotSupported spec.steps[1].container"}},
		{name: "traceID too long", mutate: func(task *arl.Task) { task.Spec.TraceID = strings.Repeat("f", MaxTraceIDLength+1) },
			want: []string{"FieldValueTooLong spec.traceID"}},
		{name: "empty sandboxRef", mutate: func(task *arl.Task) { task.Spec.SandboxRef = "" },
			want: []string{"FieldValueRequired spec.sandboxRef"}},
		{name: "no steps", mutate: func(task *arl.Task) { task.Spec.Steps = nil },
			want: []string{"FieldValueRequired spec.steps"}},
		{name: "unknown and missing step types", mutate: func(task *arl.Task) {
			task.Spec.Steps[0].Type = "Shell"
			task.Spec.Steps[1].Type = ""
		}, want: []string{"FieldValueNotSupported spec.steps[0].type", "FieldValueRequired spec.steps[1].type"}},
		{name: "FilePatch without path", mutate: func(task *arl.Task) { task.Spec.Steps[0].Path = "" },
			want: []string{"FieldValueRequired spec.steps[0].path"}},
		{name: "Command without command", mutate: func(task *arl.Task) { task.Spec.Steps[1].Command = nil },
			want: []string{"FieldValueRequired spec.steps[1].command"}},
		{name: "Command with an empty program", mutate: func(task *arl.Task) { task.Spec.Steps[1].Command = []string{" "} },
			want: []string{"FieldValueInvalid spec.steps[1].command[0]"}},
		{name: "duplicate step names", mutate: func(task *arl.Task) { task.Spec.Steps[1].Name = "write-code" },
			want: []string{"FieldValueDuplicate spec.steps[1].name"}},
		{name: "bad step name", mutate: func(task *arl.Task) { task.Spec.Steps[0].Name = "-x y" },
			want: []string{"FieldValueInvalid spec.steps[0].name"}},
		{name: "fields of the other step type", mutate: func(task *arl.Task) {
			task.Spec.Steps[0].Command = []string{"true"}
			task.Spec.Steps[1].Path = "/x"
		}, want: []string{"FieldValueForbidden spec.steps[0].command", "FieldValueForbidden spec.steps[1].path"}},
		{name: "bad env name and file mode", mutate: func(task *arl.Task) {
			task.Spec.Steps[0].Mode = ptr.To[int32](010000)
			task.Spec.Steps[1].Env = map[string]string{"1BAD": "x", "GOOD": "y"}
		}, want: []string{"FieldValueInvalid spec.steps[0].mode", "FieldValueInvalid spec.steps[1].env[1BAD]"}},
		{name: "negative retries, ttl and a zero timeout", mutate: func(task *arl.Task) {
			task.Spec.Retries = -1
			task.Spec.TTLSecondsAfterFinished = ptr.To[int32](-1)
			task.Spec.Timeout = &metav1.Duration{}
		}, want: []string{"FieldValueInvalid spec.timeout", "FieldValueInvalid spec.retries", "FieldValueInvalid spec.ttlSecondsAfterFinished"}},
		{name: "too many retries", mutate: func(task *arl.Task) { task.Spec.Retries = MaxRetries + 1 },
			want: []string{"FieldValueInvalid spec.retries"}},
		{name: "content larger than an etcd object can hold", mutate: func(task *arl.Task) {
			task.Spec.Steps[0].Content = strings.Repeat("x", MaxTotalContentBytes+1)
		}, want: []string{"FieldValueInvalid spec.steps"}},
		{name: "content within 1 MiB of bytes, six times that as stored", mutate: func(task *arl.Task) {
			task.Spec.Steps[0].Content = strings.Repeat("<", MaxTotalContentBytes/2)
		}, want: []string{"FieldValueInvalid spec.steps"}},
		{name: "commands and environment count too", mutate: func(task *arl.Task) {
			task.Spec.Steps[1].Command = append(task.Spec.Steps[1].Command, strings.Repeat("a", MaxTotalContentBytes/2))
			task.Spec.Steps[1].Env = map[string]string{"BIG": strings.Repeat("b", MaxTotalContentBytes/2)}
		}, want: []string{"FieldValueInvalid spec.steps"}},
		{name: "1 MiB as stored is valid", mutate: func(task *arl.Task) {
			task.Spec.Steps[0].Content = strings.Repeat("x", MaxTotalContentBytes-StoredLen(task.Spec.Steps[0].Path)-
				StoredLen("python")-StoredLen("/workspace/hello.py"))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			task := validTask()
			tc.mutate(task)
			if diff := cmp.Diff(tc.want, errorsOf(ValidateTask(task))); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateTaskUpdate(t *testing.T) {
	old := validTask()
	old.ResourceVersion = "1"

	ttlOnly := old.DeepCopy()
	ttlOnly.Spec.TTLSecondsAfterFinished = ptr.To[int32](300)
	if errs := ValidateTaskUpdate(ttlOnly, old); len(errs) != 0 {
		t.Errorf("changing ttlSecondsAfterFinished must be allowed: %v", errs)
	}

	changed := old.DeepCopy()
	changed.Spec.Steps[1].Command = []string{"rm", "-rf", "/"}
	changed.Spec.SandboxRef = "other"
	changed.Spec.TraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	want := []string{"FieldValueInvalid spec.sandboxRef", "FieldValueInvalid spec.steps", "FieldValueInvalid spec.traceID"}
	if diff := cmp.Diff(want, errorsOf(ValidateTaskUpdate(changed, old))); diff != "" {
		t.Errorf("what a Task runs must be immutable (-want +got):\n%s", diff)
	}
}

func TestValidateTaskStatusUpdate(t *testing.T) {
	old := validTask()
	old.ResourceVersion = "1"
	old.Status.State = arl.TaskSucceeded

	rerun := old.DeepCopy()
	rerun.Status.State = arl.TaskRunning
	if diff := cmp.Diff([]string{"FieldValueForbidden status.state"}, errorsOf(ValidateTaskStatusUpdate(rerun, old))); diff != "" {
		t.Errorf("a finished Task must keep its state (-want +got):\n%s", diff)
	}

	running := validTask()
	running.ResourceVersion = "1"
	running.Status.State = arl.TaskRunning
	bogus := running.DeepCopy()
	bogus.Status.State = "Exploded"
	if diff := cmp.Diff([]string{"FieldValueNotSupported status.state"}, errorsOf(ValidateTaskStatusUpdate(bogus, running))); diff != "" {
		t.Errorf("unknown state (-want +got):\n%s", diff)
	}
	done := running.DeepCopy()
	done.Status.State = arl.TaskFailed
	if errs := ValidateTaskStatusUpdate(done, running); len(errs) != 0 {
		t.Errorf("Running -> Failed must be allowed: %v", errs)
	}
}

func TestValidateHostModeBodies(t *testing.T) {
	cases := []struct {
		name  string
		errs  field.ErrorList
		paths []string
	}{
		{"by pid", ValidateSandboxSignal(&arl.SandboxSignal{PID: 42, Signal: "SIGTERM"}, "sb"), nil},
		{"by tag, signal number", ValidateSandboxSignal(&arl.SandboxSignal{Tag: "web", Signal: "9"}, "sb"), nil},
		{"default signal, body named as the URL", ValidateSandboxSignal(&arl.SandboxSignal{ObjectMeta: metav1.ObjectMeta{Name: "sb"}, PID: 1}, "sb"), nil},
		{"no process", ValidateSandboxSignal(&arl.SandboxSignal{Signal: "TERM"}, "sb"), []string{"pid"}},
		{"both pid and tag", ValidateSandboxSignal(&arl.SandboxSignal{PID: 3, Tag: "web"}, "sb"), []string{"tag"}},
		{"a process group by a negative pid", ValidateSandboxSignal(&arl.SandboxSignal{PID: -1}, "sb"), []string{"pid"}},
		{"unknown signal", ValidateSandboxSignal(&arl.SandboxSignal{PID: 3, Signal: "SIGNOPE"}, "sb"), []string{"signal"}},
		{"signal out of range", ValidateSandboxSignal(&arl.SandboxSignal{PID: 3, Signal: "200"}, "sb"), []string{"signal"}},
		{"another Sandbox's name", ValidateSandboxSignal(&arl.SandboxSignal{ObjectMeta: metav1.ObjectMeta{Name: "other"}, PID: 3}, "sb"), []string{"metadata.name"}},
		{"reset", ValidateSandboxReset(&arl.SandboxReset{PreserveFiles: true}, "sb"), nil},
		{"reset of another Sandbox", ValidateSandboxReset(&arl.SandboxReset{ObjectMeta: metav1.ObjectMeta{Name: "other"}}, "sb"), []string{"metadata.name"}},
	}
	for _, c := range cases {
		var got []string
		for _, e := range c.errs {
			got = append(got, e.Field)
		}
		if !cmp.Equal(got, c.paths) {
			t.Errorf("%s: errors at %v, want %v (%v)", c.name, got, c.paths, c.errs)
		}
	}
}

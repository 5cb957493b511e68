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

// Package security attacks local sandboxes from inside, as the untrusted
// code they run would, and checks that every attack fails: escapes to the
// host, to the server's data and to other sandboxes, resource exhaustion,
// and the leftovers of a crashed server. See docs/security.md.
package security

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlclient "github.com/arl-infra/arl/pkg/generated/clientset/versioned/typed/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool/local"
	"github.com/arl-infra/arl/test/integration/framework"
)

const ns = metav1.NamespaceDefault

// requireRoot skips where the server cannot give sandboxes uids and
// cgroups of their own: what this suite attacks.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("local sandboxes are confined with their own uids and cgroups only when arl-apiserver runs as root; run as root (CI does)")
	}
}

type env struct {
	t      *testing.T
	server *framework.Standalone
	arl    arlclient.ArlV1alpha1Interface
	ctx    context.Context
}

func newEnv(t *testing.T, server *framework.Standalone) *env {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return &env{t: t, server: server, arl: server.Clientset().ArlV1alpha1(), ctx: ctx}
}

// pool creates the manual's python pool with replicas idle pods.
func (e *env) pool(replicas int32) {
	e.t.Helper()
	_, err := e.arl.WarmPools(ns).Create(e.ctx, &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: "python-pool"},
		Spec: arlv1alpha1.WarmPoolSpec{
			Replicas: ptr.To(replicas),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: arl.ExecutorContainerName, Image: "python:3.9-slim", Command: []string{"sleep", "infinity"},
			}}}},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
}

// sandbox creates a Sandbox, waits until it is Ready and returns it.
func (e *env) sandbox(name string) *arlv1alpha1.Sandbox {
	e.t.Helper()
	_, err := e.arl.Sandboxes(ns).Create(e.ctx, &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: "python-pool", KeepAlive: true},
	}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var sb *arlv1alpha1.Sandbox
	framework.Eventually(e.t, 2*time.Minute, "Sandbox "+name+" Ready", func() bool {
		sb, err = e.arl.Sandboxes(ns).Get(e.ctx, name, metav1.GetOptions{})
		return err == nil && sb.Status.Phase == arlv1alpha1.SandboxReady
	})
	return sb
}

func bash(name, script string) arlv1alpha1.TaskStep {
	return arlv1alpha1.TaskStep{Name: name, Type: arlv1alpha1.StepCommand, Command: []string{"bash", "-c", script}}
}

func newTask(name, sandbox string, timeout time.Duration, steps ...arlv1alpha1.TaskStep) *arlv1alpha1.Task {
	return &arlv1alpha1.Task{
		TypeMeta:   metav1.TypeMeta{APIVersion: arlv1alpha1.SchemeGroupVersion.String(), Kind: "Task"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       arlv1alpha1.TaskSpec{SandboxRef: sandbox, Steps: steps, Timeout: &metav1.Duration{Duration: timeout}},
	}
}

// exec runs a Task through tasks/{name}/exec and returns the finished Task.
func (e *env) exec(task *arlv1alpha1.Task) *arlv1alpha1.Task {
	e.t.Helper()
	body, err := json.Marshal(task)
	if err != nil {
		e.t.Fatal(err)
	}
	out := &arlv1alpha1.Task{}
	err = e.arl.RESTClient().Post().Namespace(ns).Resource("tasks").Name(task.Name).SubResource("exec").
		Body(body).SetHeader("Content-Type", "application/json").Do(e.ctx).Into(out)
	if err != nil {
		e.t.Fatalf("exec %s: %v", task.Name, err)
	}
	return out
}

func reason(task *arlv1alpha1.Task) string {
	if c := meta.FindStatusCondition(task.Status.Conditions, arlv1alpha1.TaskConditionComplete); c != nil {
		return c.Reason
	}
	return ""
}

// localPod is what a pod.json says.
type localPod struct {
	Name    string `json:"name"`
	PID     int    `json:"pid"`
	HostUID int    `json:"hostUID"`
}

// pods reads the pods on disk by name.
func pods(t *testing.T, dataDir string) map[string]localPod {
	out := map[string]localPod{}
	paths, _ := filepath.Glob(filepath.Join(dataDir, "pods", ns, "*", "pod.json"))
	for _, path := range paths {
		var p localPod
		data, err := os.ReadFile(path)
		if err != nil {
			continue // deleted meanwhile
		}
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[p.Name] = p
	}
	return out
}

// cgroupParents are the parents of the data directory's sandbox cgroups.
func cgroupParents(t *testing.T, dataDir string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dataDir, "pods", local.CgroupsFile))
	if err != nil {
		t.Fatalf("the server made no cgroups for its sandboxes: %v", err)
	}
	return strings.Fields(string(data))
}

// sandboxCgroups maps each sandbox cgroup ("namespace_pod") under the
// parents to the processes in it, across hierarchies.
func sandboxCgroups(parents []string) map[string][]int {
	out := map[string][]int{}
	for _, parent := range parents {
		dirs, _ := os.ReadDir(parent)
		for _, d := range dirs {
			if !d.IsDir() {
				continue
			}
			if _, ok := out[d.Name()]; !ok {
				out[d.Name()] = nil
			}
			data, _ := os.ReadFile(filepath.Join(parent, d.Name(), "cgroup.procs"))
			for _, f := range strings.Fields(string(data)) {
				// v1 lists a process once in each hierarchy.
				if pid, _ := strconv.Atoi(f); !slices.Contains(out[d.Name()], pid) {
					out[d.Name()] = append(out[d.Name()], pid)
				}
			}
		}
	}
	return out
}

// hostUID is the real uid a process runs as on the host.
func hostUID(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			return strconv.Atoi(strings.Fields(v)[0])
		}
	}
	return 0, fmt.Errorf("no Uid line for %d", pid)
}

// processesWithUIDs lists the host's processes whose uid is in [lo, hi).
func processesWithUIDs(lo, hi int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if uid, err := hostUID(pid); err == nil && uid >= lo && uid < hi {
			pids = append(pids, pid)
		}
	}
	return pids
}

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
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

// TestManualQuickStart: the pool keeps 3 Ready pods, `kubectl apply` of the
// Sandbox answers Ready with its pod, and the pool refills behind it.
func TestManualQuickStart(t *testing.T) {
	e := newEnv(t)
	k := e.server.Kubectl()
	root, _ := framework.ModuleRoot()
	examples := filepath.Join(root, "artifacts", "examples")

	k.MustRun("apply", "-f", filepath.Join(examples, "warmpool.yaml"))
	e.waitPool("python-pool", "3 idle pods Ready", readyIdle(3))
	if n := len(e.pods()); n != 3 {
		t.Fatalf("%d pods on disk, want 3", n)
	}

	out := k.MustRun("create", "-f", filepath.Join(examples, "sandbox.yaml"), "-o", "jsonpath={.status.phase} {.status.podName} {.status.podIP}")
	var phase, podName, podIP string
	if _, err := fmt.Sscan(out, &phase, &podName, &podIP); err != nil {
		t.Fatalf("the create response %q: %v", out, err)
	}
	if phase != "Ready" || podName == "" || !strings.HasPrefix(podIP, "unix://") {
		t.Fatalf("the create response must already be Ready with a pod: %q", out)
	}
	if p := e.pods()[podName]; p.State != arl.PodStateAllocated || p.Sandbox != "my-workspace" {
		t.Errorf("pod %s on disk: %+v", podName, p)
	}
	pool := e.waitPool("python-pool", "refilled to 3 idle plus 1 allocated", func(p *arlv1alpha1.WarmPool) bool {
		return readyIdle(3)(p) && p.Status.AllocatedReplicas == 1
	})
	if pool.Status.Replicas != 4 {
		t.Errorf("status.replicas = %d, want 4", pool.Status.Replicas)
	}
	if got := k.MustRun("get", "sandbox", "my-workspace", "-o", "jsonpath={.status.phase}"); got != "Ready" {
		t.Errorf("kubectl get sandbox: phase %q", got)
	}

	// Deleting the Sandbox deletes its pod (reusePolicy Delete).
	k.MustRun("delete", "sandbox", "my-workspace")
	if _, ok := e.pods()[podName]; ok {
		t.Errorf("pod %s still exists after its Sandbox was deleted", podName)
	}
	e.waitPool("python-pool", "3 idle, none allocated", func(p *arlv1alpha1.WarmPool) bool {
		return readyIdle(3)(p) && p.Status.AllocatedReplicas == 0
	})
}

// TestConcurrentBinds: 10 Sandboxes created at once from a pool of 3 get 10
// distinct pods; those beyond the idle ones wait as Pending and turn Ready
// as soon as the pool has made their pods; the pool then has 3 idle again.
func TestConcurrentBinds(t *testing.T) {
	e := newEnv(t)
	e.createPool(pythonPool("python-pool", 3))
	e.waitPool("python-pool", "3 idle pods Ready", readyIdle(3))

	var wg sync.WaitGroup
	created := make([]*arlv1alpha1.Sandbox, 10)
	errs := make([]error, 10)
	for i := range created {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			created[i], errs[i] = e.arl.Sandboxes(ns).Create(e.ctx, sandbox(fmt.Sprintf("sb-%d", i), "python-pool"), metav1.CreateOptions{})
		}(i)
	}
	wg.Wait()
	readyAtCreate := 0
	for i, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
		if created[i].Status.Phase == arlv1alpha1.SandboxReady {
			readyAtCreate++
		}
	}
	// At least the pool's idle pods go out in create responses; more may,
	// as the pool refills while the burst arrives.
	if readyAtCreate == 0 {
		t.Errorf("no Sandbox was Ready in its create response")
	}
	t.Logf("%d of 10 Sandboxes were Ready in their create response", readyAtCreate)
	pods := sets.New[string]()
	for i := range created {
		sb := e.waitSandbox(created[i].Name, "Ready", isPhase(arlv1alpha1.SandboxReady))
		if pods.Has(sb.Status.PodName) {
			t.Errorf("pod %s is bound twice", sb.Status.PodName)
		}
		pods.Insert(sb.Status.PodName)
		if p := e.pods()[sb.Status.PodName]; p.Sandbox != sb.Name || p.State != arl.PodStateAllocated {
			t.Errorf("pod %s is labelled %+v, want allocated to %s", sb.Status.PodName, p, sb.Name)
		}
	}
	e.waitPool("python-pool", "10 allocated and 3 idle", func(p *arlv1alpha1.WarmPool) bool {
		return readyIdle(3)(p) && p.Status.AllocatedReplicas == 10
	})
}

// TestPodDeathFailsItsSandbox: a killed sandbox process fails its Sandbox
// with the reason, and the pool replaces it.
func TestPodDeathFailsItsSandbox(t *testing.T) {
	e := newEnv(t)
	e.createPool(pythonPool("python-pool", 1))
	e.waitPool("python-pool", "1 idle pod Ready", readyIdle(1))
	sb, err := e.arl.Sandboxes(ns).Create(e.ctx, sandbox("doomed", "python-pool"), metav1.CreateOptions{})
	if err != nil || sb.Status.Phase != arlv1alpha1.SandboxReady {
		t.Fatalf("create: %v %v", err, sb.Status)
	}
	pod := e.pods()[sb.Status.PodName]
	if err := syscall.Kill(pod.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	failed := e.waitSandbox("doomed", "Failed", isPhase(arlv1alpha1.SandboxFailed))
	if c := failed.Status.Conditions[0]; c.Reason != "PodLost" || !strings.Contains(c.Message, sb.Status.PodName) {
		t.Errorf("condition %+v, want reason PodLost naming the pod", c)
	}
	e.waitPool("python-pool", "a replacement idle pod", readyIdle(1))
	framework.Eventually(t, time.Minute, "the dead pod is removed", func() bool {
		_, ok := e.pods()[sb.Status.PodName]
		return !ok
	})
}

// TestScaleAndTemplateRoll: scaling changes the idle count both ways, a
// template change replaces every idle pod, deleting the pool deletes all.
func TestScaleAndTemplateRoll(t *testing.T) {
	e := newEnv(t)
	k := e.server.Kubectl()
	e.createPool(pythonPool("python-pool", 2))
	e.waitPool("python-pool", "2 idle Ready", readyIdle(2))

	k.MustRun("scale", "warmpool", "python-pool", "--replicas=4")
	e.waitPool("python-pool", "4 idle Ready", readyIdle(4))
	k.MustRun("scale", "warmpool", "python-pool", "--replicas=1")
	e.waitPool("python-pool", "1 idle Ready", readyIdle(1))
	framework.Eventually(t, time.Minute, "excess pods deleted", func() bool { return len(e.pods()) == 1 })

	before := sets.KeySet(e.pods())
	sb, err := e.arl.Sandboxes(ns).Create(e.ctx, sandbox("keeper", "python-pool"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	k.MustRun("patch", "warmpool", "python-pool", "--type=merge", "-p",
		`{"spec":{"template":{"spec":{"containers":[{"name":"executor","image":"python:3.9-slim","command":["sleep","100000"]}]}}}}`)
	e.waitPool("python-pool", "1 idle Ready of the new template", readyIdle(1))
	framework.Eventually(t, time.Minute, "idle pods of the old template replaced", func() bool {
		pods := e.pods()
		for name, p := range pods {
			if p.State == arl.PodStateIdle && before.Has(name) {
				return false
			}
		}
		return len(pods) == 2
	})
	if p, ok := e.pods()[sb.Status.PodName]; !ok || p.Sandbox != "keeper" {
		t.Errorf("the allocated pod of the old template must be kept while its Sandbox lives: %+v", p)
	}

	pids := []int{}
	for _, p := range e.pods() {
		pids = append(pids, p.PID)
	}
	k.MustRun("delete", "warmpool", "python-pool")
	framework.Eventually(t, time.Minute, "every pod of the deleted pool is gone", func() bool {
		for _, pid := range pids {
			if alive(pid) {
				return false
			}
		}
		return len(e.pods()) == 0
	})
	e.waitSandbox("keeper", "Failed", isPhase(arlv1alpha1.SandboxFailed))
}

// TestResetPolicyReturnsThePod: with reusePolicy Reset a deleted Sandbox's
// pod is emptied and bound again.
func TestResetPolicyReturnsThePod(t *testing.T) {
	e := newEnv(t)
	pool := pythonPool("reuse-pool", 1)
	pool.Spec.ReusePolicy = arlv1alpha1.ReusePolicyReset
	e.createPool(pool)
	e.waitPool("reuse-pool", "1 idle Ready", readyIdle(1))

	first, err := e.arl.Sandboxes(ns).Create(e.ctx, sandbox("first", "reuse-pool"), metav1.CreateOptions{})
	if err != nil || first.Status.Phase != arlv1alpha1.SandboxReady {
		t.Fatalf("create: %v %+v", err, first.Status)
	}
	podName := first.Status.PodName
	if err := os.WriteFile(filepath.Join(e.workspace(podName), "leftover.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.waitPool("reuse-pool", "a second idle pod", readyIdle(1))
	if err := e.arl.Sandboxes(ns).Delete(e.ctx, "first", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p, ok := e.pods()[podName]
	if !ok || p.State != arl.PodStateIdle || p.Sandbox != "" {
		t.Fatalf("the reset pod must be back in the pool: %+v (exists %v)", p, ok)
	}
	entries, _ := os.ReadDir(e.workspace(podName))
	if len(entries) != 0 {
		t.Errorf("the reset pod's workspace holds %d entries", len(entries))
	}
	// The pool now has one idle pod too many and deletes one.
	e.waitPool("reuse-pool", "1 idle Ready", readyIdle(1))
}

// TestUnknownPool: a Sandbox of a missing pool waits with a reason and is
// bound once the pool exists.
func TestUnknownPool(t *testing.T) {
	e := newEnv(t)
	sb, err := e.arl.Sandboxes(ns).Create(e.ctx, sandbox("early", "later-pool"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sb.Status.Phase != arlv1alpha1.SandboxPending || sb.Status.Conditions[0].Reason != "PoolNotFound" {
		t.Fatalf("status %+v, want Pending with reason PoolNotFound", sb.Status)
	}
	e.createPool(pythonPool("later-pool", 1))
	e.waitSandbox("early", "Ready", isPhase(arlv1alpha1.SandboxReady))
}

// TestIdleTimeout: a Sandbox with idleTimeoutSeconds is deleted once idle.
func TestIdleTimeout(t *testing.T) {
	e := newEnv(t)
	e.createPool(pythonPool("python-pool", 1))
	sb := sandbox("short-lived", "python-pool")
	one := int32(1)
	sb.Spec.IdleTimeoutSeconds = &one
	if _, err := e.arl.Sandboxes(ns).Create(e.ctx, sb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	framework.Eventually(t, time.Minute, "the idle Sandbox is deleted", func() bool {
		_, err := e.arl.Sandboxes(ns).Get(e.ctx, "short-lived", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}

// TestRestartKeepsBindings: a restarted server adopts the local pods and
// every binding stays as it was.
func TestRestartKeepsBindings(t *testing.T) {
	e := newEnv(t)
	e.createPool(pythonPool("python-pool", 2))
	e.waitPool("python-pool", "2 idle Ready", readyIdle(2))
	sb, err := e.arl.Sandboxes(ns).Create(e.ctx, sandbox("durable", "python-pool"), metav1.CreateOptions{})
	if err != nil || sb.Status.Phase != arlv1alpha1.SandboxReady {
		t.Fatalf("create: %v %+v", err, sb.Status)
	}
	// The pool's status is written at most once a second: right after the
	// bind it may still show the 2 idle pods of before, with the refill
	// not made yet. Settled means the bound pod counted too.
	e.waitPool("python-pool", "refilled", func(p *arlv1alpha1.WarmPool) bool {
		return p.Status.AllocatedReplicas == 1 && readyIdle(2)(p)
	})
	before := e.pods()
	if len(before) != 3 {
		t.Fatalf("pods of the settled pool %v, want the bound one and 2 idle", sets.KeySet(before))
	}

	e.server.Stop()
	e.server.Start()

	after := e.waitSandbox("durable", "still Ready", isPhase(arlv1alpha1.SandboxReady))
	if after.Status.PodName != sb.Status.PodName || after.Status.PodUID != sb.Status.PodUID {
		t.Errorf("binding changed across a restart: %s -> %s", sb.Status.PodName, after.Status.PodName)
	}
	e.waitPool("python-pool", "2 idle Ready after the restart", readyIdle(2))
	if got := e.pods(); len(got) != len(before) {
		t.Errorf("pods before the restart %v, after %v", sets.KeySet(before), sets.KeySet(got))
	}
}

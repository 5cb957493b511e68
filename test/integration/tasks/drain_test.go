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

package tasks

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/test/integration/framework"
)

// TestStopLetsRunningTasksFinish: a server told to stop (SIGTERM, as a
// rollout does) with --shutdown-task-grace lets the Task it runs finish:
// its tasks/exec client gets it Succeeded, and it is stored so.
func TestStopLetsRunningTasksFinish(t *testing.T) {
	e := newEnvWith(t, []string{"--shutdown-delay-duration=1s", "--shutdown-task-grace=60s"}, 1, "sb")
	type answer struct {
		task *arlv1alpha1.Task
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		task, err := e.execCtx(e.ctx, newTask("drained", "sb", bash("work", "sleep 3; echo finished")))
		answered <- answer{task, err}
	}()
	framework.Eventually(t, time.Minute, "the Task started", func() bool {
		task, err := e.arl.Tasks(ns).Get(e.ctx, "drained", metav1.GetOptions{})
		return err == nil && task.Status.State == arlv1alpha1.TaskRunning
	})
	e.server.Stop()
	a := <-answered
	if a.err != nil || a.task.Status.State != arlv1alpha1.TaskSucceeded || a.task.Status.Stdout != "finished\n" {
		t.Fatalf("exec of a Task running when the server was told to stop: %v %+v", a.err, a.task.Status)
	}
	if !strings.Contains(e.server.Logs(), "letting this replica's Tasks finish") {
		t.Errorf("the server did not say it drained its Tasks:\n%s", e.server.Logs())
	}
	e.server.Start()
	e.arl = e.server.Clientset().ArlV1alpha1()
	if task := e.waitTask("drained"); task.Status.State != arlv1alpha1.TaskSucceeded {
		t.Errorf("stored: %+v", task.Status)
	}
}

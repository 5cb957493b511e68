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

package executor

import (
	"context"
	"fmt"

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// runnerLostMessage says why a Task whose replica stopped failed.
func runnerLostMessage(runner string) string {
	return fmt.Sprintf("the arl-apiserver replica %q that ran it stopped; its steps are not re-run", runner)
}

// Recover handles the unfinished Tasks of replicas that are gone (alive
// says which runners still are): a Running one is marked Failed, since
// its steps may have had effects and are never silently re-run; a Pending
// one never started, so this replica queues it.
func (e *Executor) Recover(ctx context.Context, alive func(runner string) bool) error {
	obj, err := e.tasks.List(ctx, &metainternalversion.ListOptions{})
	if err != nil {
		return err
	}
	for i := range obj.(*arl.TaskList).Items {
		task := &obj.(*arl.TaskList).Items[i]
		runner := task.Status.Runner
		if task.Status.State.IsFinished() || runner == e.cfg.Identity || (runner != "" && alive(runner)) {
			continue
		}
		switch task.Status.State {
		case arl.TaskRunning:
			now := e.metaNow()
			message := runnerLostMessage(runner)
			failed, err := e.updateStatusRetrying(genericapirequest.WithNamespace(ctx, task.Namespace), task.Name, func(t *arl.Task) error {
				if t.Status.State != arl.TaskRunning || t.Status.Runner != runner {
					return errTaskStateChanged
				}
				t.Status = finishedStatus(t, now, ReasonRunnerLost, message)
				return nil
			})
			if err == nil {
				taskLogger(klog.FromContext(ctx), task).Info("Failed a Task whose runner is gone", "runner", runner)
				e.recordFinished(failed)
			}
		default:
			e.Adopt(task)
		}
	}
	return nil
}

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
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// Reasons of the Complete condition.
const (
	ReasonSucceeded         = "Succeeded"
	ReasonStepFailed        = "StepFailed"
	ReasonTimedOut          = "TimedOut"
	ReasonOOMKilled         = "OOMKilled"
	ReasonSandboxNotFound   = "SandboxNotFound"
	ReasonSandboxFailed     = "SandboxFailed"
	ReasonAgentUnreachable  = "AgentUnreachable"
	ReasonCanceled          = "Canceled"
	ReasonRunnerLost        = "RunnerLost"
	ReasonQueued            = "Queued"
	ReasonWaitingForSandbox = "WaitingForSandbox"
	ReasonRunning           = "Running"
)

// errTaskStateChanged ends a Task status write that no longer applies: the
// stored Task is not in the state the write was for (another write, or
// another replica, got there first).
var errTaskStateChanged = errors.New("the Task is no longer in the state this write was for")

// errActivityRecent ends a Sandbox's activity write that is not needed:
// its last activity is recent enough (see touch).
var errActivityRecent = errors.New("the Sandbox's last activity is recent enough")

func runningStatus(runner string, now metav1.Time, attempt int32) arl.TaskStatus {
	return arl.TaskStatus{
		State:     arl.TaskRunning,
		Runner:    runner,
		StartTime: &now,
		Attempts:  attempt,
		Conditions: []metav1.Condition{{Type: arl.TaskConditionComplete, Status: metav1.ConditionFalse,
			Reason: ReasonRunning, Message: "the steps are running", LastTransitionTime: now}},
	}
}

func pendingStatus(runner, reason, message string, now metav1.Time) arl.TaskStatus {
	return arl.TaskStatus{
		State:  arl.TaskPending,
		Runner: runner,
		Conditions: []metav1.Condition{{Type: arl.TaskConditionComplete, Status: metav1.ConditionFalse,
			Reason: reason, Message: message, LastTransitionTime: now}},
	}
}

// finishedStatus fails a Task that could not run at all.
func finishedStatus(task *arl.Task, now metav1.Time, reason, message string) arl.TaskStatus {
	status := task.Status.DeepCopy()
	status.State = arl.TaskFailed
	if status.ExitCode == nil {
		status.ExitCode = ptr.To[int32](1)
	}
	status.CompletionTime = &now
	if status.StartTime != nil {
		status.Duration = &metav1.Duration{Duration: now.Sub(status.StartTime.Time)}
	}
	status.Conditions = []metav1.Condition{{Type: arl.TaskConditionComplete, Status: metav1.ConditionTrue,
		Reason: reason, Message: message, LastTransitionTime: now}}
	reasonAsStderr(status, reason, message)
	return *status
}

// reasonAsStderr puts a failed Task's reason in status.stderr, as one
// line, when the status holds no output of any command (the Task never ran
// one, or its runner was lost before writing what it printed): scripts
// that print stderr, as the manual's do, then tell the user why. The
// Complete condition has the reason all the same.
func reasonAsStderr(status *arl.TaskStatus, reason, message string) {
	if status.Stdout == "" && status.Stderr == "" && len(status.Steps) == 0 {
		status.Stderr = reason + ": " + message + "\n"
	}
}

// completeReason is the reason and message of a finished Task.
func completeReason(task *arl.Task) (string, string) {
	if c := meta.FindStatusCondition(task.Status.Conditions, arl.TaskConditionComplete); c != nil {
		return c.Reason, c.Message
	}
	return string(task.Status.State), ""
}

// sandboxReason is why a Sandbox is not Ready, from its conditions.
func sandboxReason(sandbox *arl.Sandbox) string {
	if c := meta.FindStatusCondition(sandbox.Status.Conditions, arl.SandboxConditionReady); c != nil && c.Status != metav1.ConditionTrue {
		return fmt.Sprintf("%s: %s", c.Reason, c.Message)
	}
	return string(sandbox.Status.Phase)
}

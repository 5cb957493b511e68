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
	"errors"
	"fmt"
	"path"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// resultWriteTimeout bounds the write of a Task's result.
const resultWriteTimeout = 20 * time.Second

// attemptResult is what one attempt of a Task did.
type attemptResult struct {
	steps []arl.StepResult
	// spans are where each step's output lies in the attempt's streams.
	spans    []stepSpan
	exitCode int32
	reason   string
	message  string
}

// run executes a stored Running Task, writes its result and frees its
// Sandbox for the next Task.
func (e *Executor) run(task *arl.Task, sandbox *arl.Sandbox, rt *runningTask) {
	// The Task's duration counts from here: status.startTime went through
	// the store, which keeps whole seconds.
	began := e.cfg.Clock.Now()
	key := taskKey(task.Namespace, task.Name)
	sbKey := taskKey(task.Namespace, sandbox.Name)
	logger := taskLogger(klog.Background(), task).WithValues("sandbox", sandbox.Name)
	life := e.lifetime()
	ctx, cancel := context.WithCancel(genericapirequest.WithNamespace(life, task.Namespace))
	e.mu.Lock()
	rt.cancel = cancel
	e.mu.Unlock()
	defer cancel()

	e.slots <- struct{}{}
	tasksRunning.Inc()
	observeQueueWait(task.Namespace, e.cfg.Clock.Since(rt.admitted))
	ctx, span := e.startTaskSpan(ctx, task, rt.parent)
	result := e.execute(ctx, task, sandbox, rt.output)
	tasksRunning.Dec()
	<-e.slots

	// A Task cut short because this server is stopping lost its runner;
	// its result is written all the same, with a context the stop does not
	// cancel, so its tasks/exec clients get it before the server exits
	// (and none waits on this replica until it is killed).
	if result.reason == ReasonCanceled && e.lifetime().Err() != nil {
		result.reason, result.message = ReasonRunnerLost, runnerLostMessage(e.cfg.Identity)
	}
	// The Task's span ends once its result is written.
	defer endResultSpan(span, result)
	writeCtx, cancelWrite := context.WithTimeout(context.WithoutCancel(genericapirequest.WithNamespace(life, task.Namespace)), resultWriteTimeout)
	defer cancelWrite()
	now := e.metaNow()
	out := statusOutputOf(rt.output, e.cfg.OutputBytes)
	truncated := out.firsts.stdout + out.firsts.stderr
	withStepOutput(result.steps, result.spans, out.firsts, out.stdout, out.stderr, e.cfg.OutputBytes)
	writeResult := func(t *arl.Task) error {
		s := &t.Status
		s.State = arl.TaskSucceeded
		if result.reason != ReasonSucceeded {
			s.State = arl.TaskFailed
		}
		s.ExitCode = ptr.To(result.exitCode)
		s.Stdout, s.Stderr = out.stdout, out.stderr
		s.StdoutTruncated, s.StderrTruncated = out.stdoutTruncated, out.stderrTruncated
		s.Steps = result.steps
		s.Attempts = task.Status.Attempts
		s.CompletionTime = &now
		s.Duration = &metav1.Duration{Duration: now.Sub(began)}
		s.Conditions = []metav1.Condition{{Type: arl.TaskConditionComplete, Status: metav1.ConditionTrue,
			Reason: result.reason, Message: result.message, LastTransitionTime: now}}
		if s.State == arl.TaskFailed {
			reasonAsStderr(s, result.reason, result.message)
		}
		return nil
	}
	final, err := e.updateStatusRetrying(writeCtx, task.Name, writeResult)
	if tooLarge(err) {
		// The Task's own metadata (up to 256 KiB of annotations) can leave
		// less room than the output cap assumes: its result is stored
		// without its output rather than not at all.
		logger.Info("The Task's result did not fit in the store; storing it without its output", "err", err)
		truncated += int64(len(out.stdout) + len(out.stderr))
		out = out.dropped()
		for i := range result.steps {
			result.steps[i].Stdout, result.steps[i].Stderr = "", ""
		}
		result.message += "; " + outputDroppedMessage
		final, err = e.updateStatusRetrying(writeCtx, task.Name, writeResult)
	}
	switch {
	case apierrors.IsNotFound(err):
		logger.V(2).Info("Task deleted while it ran")
	case err != nil:
		logger.Error(err, "Writing the Task's result failed")
	default:
		logger.V(2).Info("Task finished", "state", final.Status.State, "reason", result.reason, "attempts", final.Status.Attempts)
		if truncated > 0 {
			outputTruncatedBytes.WithLabelValues(task.Namespace).Add(float64(truncated))
		}
		e.recordFinished(final)
	}
	e.finish(key, final)
	e.release(sbKey)
	go e.kick(sbKey)
	if !sandbox.Spec.KeepAlive {
		e.finishOneShot(sandbox, task.Name)
	} else {
		e.touch(sandbox)
	}
}

// execute runs the attempts of a Task (1 + spec.retries at most).
func (e *Executor) execute(ctx context.Context, task *arl.Task, sandbox *arl.Sandbox, out *output) attemptResult {
	agent, err := e.cfg.Agents.AgentFor(ctx, sandbox)
	switch {
	case errors.Is(err, pool.ErrPodGone):
		return attemptResult{exitCode: 1, reason: ReasonSandboxFailed, message: err.Error()}
	case err != nil:
		return attemptResult{exitCode: 1, reason: ReasonAgentUnreachable, message: err.Error()}
	}
	var result attemptResult
	for attempt := int32(1); ; attempt++ {
		task.Status.Attempts = attempt
		if attempt > 1 {
			out.newAttempt()
		}
		attemptCtx, span := startAttemptSpan(ctx, attempt)
		result = e.attempt(attemptCtx, agent, task, sandbox, out)
		endResultSpan(span, result)
		if result.reason == ReasonSucceeded || attempt > task.Spec.Retries || ctx.Err() != nil || result.reason == ReasonAgentUnreachable {
			return result
		}
	}
}

// attempt runs the steps in order and stops at the first failure.
func (e *Executor) attempt(ctx context.Context, agent *client.Client, task *arl.Task, sandbox *arl.Sandbox, out *output) attemptResult {
	var deadline time.Time
	if task.Spec.Timeout != nil {
		deadline = e.cfg.Clock.Now().Add(task.Spec.Timeout.Duration)
	}
	workDir := sandbox.Status.WorkDir
	if workDir == "" {
		workDir = "/workspace"
	}
	result := attemptResult{reason: ReasonSucceeded, message: fmt.Sprintf("all %d steps succeeded", len(task.Spec.Steps))}
	for i := range task.Spec.Steps {
		step := &task.Spec.Steps[i]
		var remaining time.Duration
		if !deadline.IsZero() {
			if remaining = deadline.Sub(e.cfg.Clock.Now()); remaining <= 0 {
				result.reason, result.message = ReasonTimedOut, fmt.Sprintf("the timeout (%s) ended before step %q", task.Spec.Timeout.Duration, step.Name)
				result.exitCode = 124
				return result
			}
		}
		started := e.metaNow()
		from := out.offsets()
		var stepResult arl.StepResult
		var oomKilled bool
		var err error
		stepCtx, span := startStepSpan(ctx, step)
		switch step.Type {
		case arl.StepFilePatch:
			stepResult, err = e.filePatch(stepCtx, agent, step, workDir, remaining)
		default:
			stepResult, oomKilled, err = e.command(stepCtx, agent, step, workDir, remaining, out)
		}
		endStepSpan(span, &stepResult, err)
		// The agent could not be reached: nothing the step did is known.
		unreachable := err != nil && status.Code(err) == codes.Unavailable
		stepResult.Name, stepResult.StartTime = step.Name, &started
		stepResult.Duration = &metav1.Duration{Duration: e.cfg.Clock.Since(started.Time)}
		result.steps = append(result.steps, stepResult)
		result.spans = append(result.spans, stepSpan{from: from, to: out.offsets()})
		result.exitCode = stepResult.ExitCode
		switch {
		case stepResult.TimedOut:
			result.reason, result.message = ReasonTimedOut, fmt.Sprintf("step %q timed out after %s", step.Name, task.Spec.Timeout.Duration)
			return result
		case ctx.Err() != nil:
			result.reason, result.message = ReasonCanceled, fmt.Sprintf("step %q was stopped: the Task or its Sandbox was deleted, or the server stopped", step.Name)
			return result
		case unreachable:
			result.reason, result.message = ReasonAgentUnreachable, stepResult.Message
			return result
		case oomKilled:
			result.reason = ReasonOOMKilled
			result.message = fmt.Sprintf("step %q was killed by the out-of-memory killer: the sandbox reached its memory limit", step.Name)
			return result
		case stepResult.ExitCode != 0:
			result.reason = ReasonStepFailed
			result.message = fmt.Sprintf("step %q exited with code %d", step.Name, stepResult.ExitCode)
			if stepResult.Message != "" {
				result.message += ": " + stepResult.Message
			}
			return result
		}
	}
	return result
}

// withStepOutput gives each step its part of the status tails (stdout and
// stderr, which begin at offsets first) within the same cap as the tails:
// a stream's tail and its steps' parts together hold at most capBytes, so
// per-step text never makes a status larger than it could be before. What
// does not fit is cut from the front, the earliest steps' first: a Task
// that printed less than half the cap on a stream has every step's output
// of it whole, one whose tail is full has none.
func withStepOutput(steps []arl.StepResult, spans []stepSpan, first streamOffsets, stdout, stderr string, capBytes int) {
	stdoutBudget, stderrBudget := capBytes-validation.StoredLen(stdout), capBytes-validation.StoredLen(stderr)
	for i := len(steps) - 1; i >= 0; i-- {
		span := spans[i]
		steps[i].Stdout = keepEnd(splitTail(stdout, first.stdout, span.from.stdout, span.to.stdout), &stdoutBudget)
		steps[i].Stderr = keepEnd(splitTail(stderr, first.stderr, span.from.stderr, span.to.stderr), &stderrBudget)
	}
}

// keepEnd returns the end of text that fits the budget, as stored, and
// takes it from it.
func keepEnd(text string, budget *int) string {
	text = validation.StoredSuffix(text, max(*budget, 0))
	*budget -= validation.StoredLen(text)
	return text
}

// filePatch writes one file in the executor container. A refused write
// (a path the image does not allow) fails the step; the error is returned
// too so a transport failure can be told apart.
func (e *Executor) filePatch(ctx context.Context, agent *client.Client, step *arl.TaskStep, workDir string, timeout time.Duration) (arl.StepResult, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	file := &agentv1.File{Path: step.Path, Content: []byte(step.Content)}
	if !path.IsAbs(step.Path) {
		file.Path = path.Join(workDir, step.Path)
	}
	if step.Mode != nil {
		file.Mode = uint32(*step.Mode)
	}
	_, err := agent.UpdateFiles(ctx, &agentv1.FileRequest{Files: []*agentv1.File{file}, CreateParents: true})
	if err != nil {
		timedOut := ctx.Err() == context.DeadlineExceeded
		return arl.StepResult{ExitCode: 1, TimedOut: timedOut, Message: fmt.Sprintf("writing %s: %s", file.Path, status.Convert(err).Message())}, err
	}
	return arl.StepResult{}, nil
}

// command runs one Command step, streaming its output. The command's own
// failures are its exit code (and whether the OOM killer ended it); the
// error is the agent's (or transport's).
func (e *Executor) command(ctx context.Context, agent *client.Client, step *arl.TaskStep, workDir string, timeout time.Duration, out *output) (arl.StepResult, bool, error) {
	dir := step.WorkDir
	switch {
	case dir == "":
		dir = workDir
	case !path.IsAbs(dir):
		dir = path.Join(workDir, dir)
	}
	req := &agentv1.ExecRequest{
		Command:        step.Command,
		Env:            step.Env,
		WorkingDir:     dir,
		Background:     step.Background,
		TimeoutMillis:  timeout.Milliseconds(),
		MaxOutputBytes: streamBytes,
	}
	if timeout > 0 && req.TimeoutMillis == 0 {
		req.TimeoutMillis = 1
	}
	exit, err := agent.Exec(ctx, req, func(stream client.Stream, chunk []byte) {
		out.write(stream == client.Stderr, chunk)
	})
	if err != nil {
		return arl.StepResult{ExitCode: 1, Message: fmt.Sprintf("running %q: %s", step.Command[0], status.Convert(err).Message())}, false, err
	}
	result := arl.StepResult{ExitCode: exit.ExitCode, Signal: exit.Signal, TimedOut: exit.TimedOut}
	if exit.Background {
		result.PID = exit.Pid
		result.ExitCode = 0
	}
	if exit.OOMKilled {
		result.Message = "killed by the out-of-memory killer"
	}
	return result, exit.OOMKilled, nil
}

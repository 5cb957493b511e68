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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// When the server stops (SIGTERM, a rollout), no request may keep it
// waiting until it is killed: a Task it runs is cut short and its result
// written (reason RunnerLost, see run); the Tasks queued here are let go,
// for another replica adopts them once this one's runner Lease is gone;
// whoever awaits a Task here (tasks/exec, tasks/log?follow) is answered
// 503 with Retry-After, and asking again reaches a replica that serves.

// lifetime is the executor's life, as Start received it (before Start,
// a context that never ends).
func (e *Executor) lifetime() context.Context {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.life
}

// releaseWaitersOnStop lets go of the queued Tasks once ctx ends.
func (e *Executor) releaseWaitersOnStop(ctx context.Context) {
	<-ctx.Done()
	e.mu.Lock()
	var queued []string
	for _, q := range e.queues {
		queued = append(queued, q.waiting...)
		q.waiting = nil
	}
	tasksQueued.Add(-float64(len(queued)))
	e.mu.Unlock()
	for _, key := range queued {
		e.forget(key)
	}
}

// errStopping tells a waiter to ask again elsewhere.
func errStopping(task string) error {
	err := apierrors.NewServiceUnavailable(fmt.Sprintf("this arl-apiserver replica is stopping; ask again to await Task %q", task))
	err.ErrStatus.Details = &metav1.StatusDetails{Name: task, Group: arl.GroupName, Kind: "tasks", RetryAfterSeconds: 1}
	return err
}

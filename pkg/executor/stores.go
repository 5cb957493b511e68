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

	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// TaskStore is what the executor does with stored Tasks besides writing
// their status (the registry's Task storage): it awaits them (Get,
// Watch), recovers those of lost replicas and sweeps expired ones (List),
// and deletes finished ones past their TTL (Delete).
type TaskStore interface {
	rest.Getter
	rest.Watcher
	rest.GracefulDeleter
	List(ctx context.Context, options *metainternalversion.ListOptions) (runtime.Object, error)
}

// StatusWriter writes the status of an object, through the status
// strategy (the registry's status subresource): Tasks' progress and
// results, Sandboxes' last activity.
type StatusWriter interface {
	Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
		updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, options *metav1.UpdateOptions) (runtime.Object, bool, error)
}

// SandboxStore reads Sandboxes and deletes one-shot ones (the registry's
// Sandbox storage).
type SandboxStore interface {
	rest.Getter
	rest.GracefulDeleter
}

// Agents reaches the agent of a Sandbox's pod (pool.Agents); an error that
// is pool.ErrPodGone says the pod is gone, any other that its agent cannot
// be reached.
type Agents interface {
	AgentFor(ctx context.Context, sandbox *arl.Sandbox) (*client.Client, error)
}

var _ Agents = &pool.Agents{}

// Stores are the registry's stores the executor works through, given to
// New unbound and bound once, by Bind, before the server serves.
//
// They cannot be given bound: the registry's storage calls the executor
// (a Task's create asks it how the Task starts, a Sandbox's delete stops
// the Tasks queued for it), so the executor is built before the storage
// that holds these stores. The code that builds the storage binds them.
type Stores struct {
	tasks         struct{ TaskStore }
	taskStatus    struct{ StatusWriter }
	sandboxes     struct{ SandboxStore }
	sandboxStatus struct{ StatusWriter }
}

// NewStores returns stores to give New, to be bound with Bind.
func NewStores() *Stores { return &Stores{} }

// Bind binds the stores to the registry's: tasks the Task storage,
// taskStatus its status subresource, sandboxes the Sandbox storage,
// sandboxStatus its status subresource.
func (s *Stores) Bind(tasks TaskStore, taskStatus StatusWriter, sandboxes SandboxStore, sandboxStatus StatusWriter) {
	s.tasks.TaskStore, s.taskStatus.StatusWriter = tasks, taskStatus
	s.sandboxes.SandboxStore, s.sandboxStatus.StatusWriter = sandboxes, sandboxStatus
}

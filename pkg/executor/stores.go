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

	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// SetStores gives the executor the stores it writes through; the storage
// that calls the executor is built with it, so they arrive after New.
func (e *Executor) SetStores(taskStatus, sandboxes, sandboxStatus *genericregistry.Store) {
	e.cfg.Tasks, e.cfg.Sandboxes, e.sandboxStatus = taskStatus, sandboxes, sandboxStatus
}

// AgentFor returns a client of the agent of a Sandbox's pod.
func (e *Executor) AgentFor(ctx context.Context, sandbox *arl.Sandbox) (*client.Client, error) {
	pod, ok := e.cfg.Runtime.Get(sandbox.Namespace, sandbox.Status.PodName)
	if !ok || pod.UID != sandbox.Status.PodUID {
		return nil, fmt.Errorf("the pod %s of Sandbox %q is gone", sandbox.Status.PodName, sandbox.Name)
	}
	return e.cfg.Agents.Get(ctx, e.cfg.Runtime.Target(pod))
}

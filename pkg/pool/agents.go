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
	"context"
	"errors"
	"fmt"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// ErrPodGone says the pod a Sandbox is bound to is no longer in the
// runtime, or is another pod of that name: nothing can run in it.
var ErrPodGone = errors.New("the Sandbox's pod is gone")

// podGoneError names the pod and Sandbox, and is ErrPodGone.
type podGoneError struct{ pod, sandbox string }

func (e *podGoneError) Error() string {
	return fmt.Sprintf("the pod %s of Sandbox %q is gone", e.pod, e.sandbox)
}

func (e *podGoneError) Is(target error) bool { return target == ErrPodGone }

// Agents reaches the agents of Sandboxes' pods: the runtime says where a
// pod's agent answers, the client pool keeps a connection per agent. The
// executor runs Tasks' steps through it, the host-mode subresources
// (processes, signal, reset) their calls.
type Agents struct {
	runtime Runtime
	clients *client.Pool
}

// NewAgents returns the agents of runtime's pods, reached through clients.
func NewAgents(runtime Runtime, clients *client.Pool) *Agents {
	return &Agents{runtime: runtime, clients: clients}
}

// AgentFor returns a client of the agent of a Sandbox's pod, whose calls
// carry the Sandbox's UID (the agent refuses them once a Reset released
// the Sandbox: client.ForSandbox); an error that
// is ErrPodGone when the Sandbox's pod is gone, any other when its agent
// cannot be reached.
func (a *Agents) AgentFor(ctx context.Context, sandbox *arl.Sandbox) (*client.Client, error) {
	pod, ok := a.runtime.Get(sandbox.Namespace, sandbox.Status.PodName)
	if !ok || pod.UID != sandbox.Status.PodUID {
		return nil, &podGoneError{pod: sandbox.Status.PodName, sandbox: sandbox.Name}
	}
	agent, err := a.clients.Get(ctx, a.runtime.Target(pod))
	if err != nil {
		return nil, err
	}
	return agent.ForSandbox(string(sandbox.UID)), nil
}

// Pod returns a pool pod of the runtime, for what serves pods themselves
// (standalone's pods and pods/exec).
func (a *Agents) Pod(namespace, name string) (*Pod, bool) {
	return a.runtime.Get(namespace, name)
}

// Pods returns every pool pod of the runtime.
func (a *Agents) Pods() []*Pod { return a.runtime.ListAll() }

// AgentOfPod returns a client of a pool pod's agent.
func (a *Agents) AgentOfPod(ctx context.Context, pod *Pod) (*client.Client, error) {
	return a.clients.Get(ctx, a.runtime.Target(pod))
}

// AgentForClaimed is AgentFor for a Sandbox read from a cache, which may be
// stale (deleted since, its pod released and bound again): it answers only
// while the runtime's pod is still the Sandbox's pod and claimed by a
// Sandbox of that name; ok is false otherwise, and the caller reads the
// Sandbox from the store. err is the failure to reach a claimed pod's agent.
func (a *Agents) AgentForClaimed(ctx context.Context, sandbox *arl.Sandbox) (agent *client.Client, ok bool, err error) {
	pod, found := a.runtime.Get(sandbox.Namespace, sandbox.Status.PodName)
	if !found || pod.UID != sandbox.Status.PodUID || pod.State != PodAllocated || pod.Sandbox != sandbox.Name || pod.Terminating {
		return nil, false, nil
	}
	agent, err = a.clients.Get(ctx, a.runtime.Target(pod))
	if err != nil {
		return nil, true, err
	}
	return agent.ForSandbox(string(sandbox.UID)), true, nil
}

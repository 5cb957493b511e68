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

package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// Agents reaches the agent of a Sandbox's pod.
type Agents interface {
	AgentFor(ctx context.Context, sandbox *arl.Sandbox) (*client.Client, error)
	// AgentForClaimed answers (ok) only while the pod is still claimed by
	// a Sandbox of that name: sandbox may come from the watch cache.
	AgentForClaimed(ctx context.Context, sandbox *arl.Sandbox) (agent *client.Client, ok bool, err error)
}

// hostModeTimeout bounds a signal, list or reset call.
const hostModeTimeout = 30 * time.Second

// hostMode is what the host-mode subresources share: the Sandbox and its agent.
type hostMode struct {
	sandboxes *REST
	agents    Agents
}

// agent returns the agent of a Ready Sandbox.
func (h *hostMode) agent(ctx context.Context, name string) (*arl.Sandbox, *client.Client, error) {
	if h.agents == nil {
		return nil, nil, apierrors.NewServiceUnavailable("this server runs no sandboxes")
	}
	if sandbox, agent, ok := h.cachedAgent(ctx, name); ok {
		return sandbox, agent, nil
	}
	obj, err := h.sandboxes.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, nil, err
	}
	sandbox := obj.(*arl.Sandbox)
	if sandbox.Status.Phase != arl.SandboxReady {
		return nil, nil, apierrors.NewConflict(arl.Resource("sandboxes"), name, fmt.Errorf("the Sandbox is %s, not Ready", sandbox.Status.Phase))
	}
	agent, err := h.agents.AgentFor(ctx, sandbox)
	if err != nil {
		return nil, nil, apierrors.NewServiceUnavailable(fmt.Sprintf("the Sandbox's agent: %v", err))
	}
	return sandbox, agent, nil
}

// cachedAgent is agent's fast path for a Ready Sandbox: its read from the
// watch cache (a quorum read from etcd was a quarter of the server's CPU
// per plain exec), trusted only while the runtime says its pod is still
// claimed by a Sandbox of that name. Anything else (not in the cache yet,
// not Ready, a pod released or not labelled yet) takes the quorum path,
// which also gives the errors.
func (h *hostMode) cachedAgent(ctx context.Context, name string) (*arl.Sandbox, *client.Client, bool) {
	obj, err := h.sandboxes.Get(ctx, name, &metav1.GetOptions{ResourceVersion: "0"})
	if err != nil {
		return nil, nil, false
	}
	sandbox := obj.(*arl.Sandbox)
	if sandbox.Status.Phase != arl.SandboxReady {
		return nil, nil, false
	}
	agent, ok, err := h.agents.AgentForClaimed(ctx, sandbox)
	if !ok || err != nil {
		return nil, nil, false
	}
	return sandbox, agent, true
}

// agentError turns an agent's gRPC error into the API's. process names
// what the call was about ("42", "tag web"), for a NotFound.
func agentError(name, process string, err error) error {
	st := status.Convert(err)
	switch st.Code() {
	case codes.NotFound:
		notFound := apierrors.NewNotFound(arl.Resource("sandboxes/processes"), process)
		notFound.ErrStatus.Message = fmt.Sprintf("Sandbox %q has no process %s: %s", name, process, st.Message())
		return notFound
	case codes.InvalidArgument:
		return apierrors.NewBadRequest(fmt.Sprintf("the agent of Sandbox %q refused the request: %s", name, st.Message()))
	case codes.FailedPrecondition:
		return apierrors.NewConflict(arl.Resource("sandboxes"), name, errors.New(st.Message()))
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("the agent of Sandbox %q: %s", name, st.Message()))
}

func toProcess(p *agentv1.ProcessInfo) arl.SandboxProcess {
	out := arl.SandboxProcess{PID: p.Pid, Tag: p.Tag, Command: p.Command, Background: p.Background, Signal: p.Signal, LogTail: string(p.LogTail)}
	switch p.State {
	case agentv1.ProcessInfo_RUNNING:
		out.State = "Running"
	case agentv1.ProcessInfo_EXITED:
		out.State = "Exited"
		out.ExitCode = ptr.To(p.ExitCode)
	}
	if p.StartTimeNanos > 0 {
		t := metav1.NewTime(time.Unix(0, p.StartTimeNanos))
		out.StartTime = &t
	}
	return out
}

// ProcessesREST is GET sandboxes/{name}/processes: the processes the
// Sandbox's agent tracks, background ones with their log tail.
type ProcessesREST struct{ hostMode }

var _ rest.Getter = &ProcessesREST{}

// New implements rest.Storage.
func (r *ProcessesREST) New() runtime.Object { return &arl.SandboxProcessList{} }

// Destroy implements rest.Storage.
func (r *ProcessesREST) Destroy() {}

// Get implements rest.Getter.
func (r *ProcessesREST) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	_, agent, err := r.agent(ctx, name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, hostModeTimeout)
	defer cancel()
	resp, err := agent.ListProcesses(ctx, &agentv1.ListProcessesRequest{LogTailBytes: 4096})
	if err != nil {
		return nil, agentError(name, "", err)
	}
	list := &arl.SandboxProcessList{Items: []arl.SandboxProcess{}}
	for _, p := range resp.Processes {
		list.Items = append(list.Items, toProcess(p))
	}
	return list, nil
}

// SignalREST is POST sandboxes/{name}/signal: a signal (SIGTERM, SIGINT,
// SIGKILL, any name or number) for a process, by PID or tag, to its
// process group unless processOnly.
type SignalREST struct{ hostMode }

var _ rest.NamedCreater = &SignalREST{}

// New implements rest.Storage.
func (r *SignalREST) New() runtime.Object { return &arl.SandboxSignal{} }

// Destroy implements rest.Storage.
func (r *SignalREST) Destroy() {}

// Create implements rest.NamedCreater.
func (r *SignalREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	signal, ok := obj.(*arl.SandboxSignal)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SandboxSignal: %T", obj))
	}
	if errs := validation.ValidateSandboxSignal(signal, name); len(errs) > 0 {
		return nil, apierrors.NewInvalid(arl.Kind("SandboxSignal"), name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	_, agent, err := r.agent(ctx, name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, hostModeTimeout)
	defer cancel()
	resp, err := agent.Signal(ctx, &agentv1.SignalRequest{Pid: signal.PID, Tag: signal.Tag, Signal: signal.Signal, ProcessOnly: signal.ProcessOnly})
	if err != nil {
		process := strconv.Itoa(int(signal.PID))
		if signal.Tag != "" {
			process = "tagged " + strconv.Quote(signal.Tag)
		}
		return nil, agentError(name, process, err)
	}
	out := signal.DeepCopy()
	out.Name = name
	out.Status = arl.SandboxSignalStatus{PID: resp.Pid, Signal: resp.Signal, ProcessGroup: resp.ProcessGroup}
	return out, nil
}

// ResetREST is POST sandboxes/{name}/reset: every process the agent
// started is killed (grandchildren too) and the workspace emptied, unless
// preserveFiles.
type ResetREST struct{ hostMode }

var _ rest.NamedCreater = &ResetREST{}

// New implements rest.Storage.
func (r *ResetREST) New() runtime.Object { return &arl.SandboxReset{} }

// Destroy implements rest.Storage.
func (r *ResetREST) Destroy() {}

// Create implements rest.NamedCreater.
func (r *ResetREST) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, options *metav1.CreateOptions) (runtime.Object, error) {
	reset, ok := obj.(*arl.SandboxReset)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a SandboxReset: %T", obj))
	}
	if errs := validation.ValidateSandboxReset(reset, name); len(errs) > 0 {
		return nil, apierrors.NewInvalid(arl.Kind("SandboxReset"), name, errs)
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	_, agent, err := r.agent(ctx, name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, hostModeTimeout)
	defer cancel()
	resp, err := agent.Reset(ctx, &agentv1.ResetRequest{PreserveFiles: reset.PreserveFiles})
	if err != nil {
		return nil, agentError(name, "", err)
	}
	out := reset.DeepCopy()
	out.Name = name
	out.Status = arl.SandboxResetStatus{Removed: resp.Removed, Killed: []arl.SandboxProcess{}}
	for _, k := range resp.Killed {
		out.Status.Killed = append(out.Status.Killed, arl.SandboxProcess{PID: k.Pid, Command: k.Command, State: "Killed"})
	}
	return out, nil
}

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
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// PodState is a pool pod's allocation state (its arl.LabelState value).
type PodState string

const (
	// PodIdle waits in its pool for a Sandbox.
	PodIdle PodState = arl.PodStateIdle
	// PodAllocated is bound to the Sandbox named by arl.LabelSandbox.
	PodAllocated PodState = arl.PodStateAllocated
)

// Pod is what the pool needs to know of a pod, whatever runs it.
type Pod struct {
	Namespace string
	Name      string
	UID       types.UID
	// Version changes on every write; Claim uses it as a precondition.
	Version string

	Pool         string
	State        PodState
	Sandbox      string
	TemplateHash string

	// Ready: the agent answers its health check.
	Ready bool
	// NotReadySince is when a pod that is not Ready stopped being Ready
	// (zero: since it was created). A blip of a pod Ready for long (its
	// node's kubelet restarting) is not a pod that never came up.
	NotReadySince time.Time
	// Failed: the pod will never be Ready (it exited, was evicted, cannot
	// pull its image, ...); FailureReason and FailureMessage say why.
	Failed         bool
	FailureReason  string
	FailureMessage string
	// Terminating: being deleted.
	Terminating bool
	// Resized: its executor's resources were changed for its Sandbox
	// (Resizer); it is deleted, never returned to its pool.
	Resized bool

	IP      string
	Node    string
	Created time.Time
	// ClaimedAt is when the pod was bound; zero when idle.
	ClaimedAt time.Time
}

// unreadyFor is how long a pod that is not Ready has not been.
func (p *Pod) unreadyFor(now time.Time) time.Duration {
	if p.NotReadySince.After(p.Created) {
		return now.Sub(p.NotReadySince)
	}
	return now.Sub(p.Created)
}

// Key is namespace/name.
func (p *Pod) Key() string { return p.Namespace + "/" + p.Name }

// PoolKey is the namespace/name of the pod's WarmPool.
func (p *Pod) PoolKey() string { return p.Namespace + "/" + p.Pool }

// Bindable says whether the pod can be handed to a Sandbox now.
func (p *Pod) Bindable() bool {
	return p.State == PodIdle && p.Ready && !p.Failed && !p.Terminating
}

// ErrConflict says a pod changed since it was read: another replica claimed
// it, or it stopped being idle.
var ErrConflict = errors.New("pod changed since it was read")

// Runtime runs pool pods. Like the rest of the controller side (informers,
// listers, the status writes) it works on versioned WarmPools: what the
// cache holds is used as it is, never converted per call. The pods it
// returns may be shared with its cache and other callers: read-only.
type Runtime interface {
	// Run watches pods and calls onChange with the latest state of every
	// pod that changed (deleted: it is gone). It returns when ctx ends.
	Run(ctx context.Context, onChange func(pod *Pod, deleted bool)) error
	// HasSynced says the first list of pods has been delivered.
	HasSynced() bool
	// Get returns a pod from the runtime's cache.
	Get(namespace, name string) (*Pod, bool)
	// List returns the cached pods of one pool.
	List(namespace, pool string) []*Pod
	// ListAll returns every cached pool pod.
	ListAll() []*Pod

	// Create starts a new idle pod for the pool's current template.
	Create(ctx context.Context, pool *arlv1alpha1.WarmPool) (*Pod, error)
	// Claim marks an idle pod allocated to sandbox, if it is still at the
	// version read; otherwise ErrConflict. A runtime may leave the write to
	// the Sandbox's storage through ctx's ClaimSlot.
	Claim(ctx context.Context, pod *Pod, sandbox string) (*Pod, error)
	// Release marks an allocated pod idle again, if it is still at the
	// version read; otherwise ErrConflict.
	Release(ctx context.Context, pod *Pod) (*Pod, error)
	// Delete deletes the pod.
	Delete(ctx context.Context, pod *Pod) error

	// Target is where the pod's AgentService answers.
	Target(pod *Pod) client.Target
	// Address is what Sandbox status reports as the pod's address.
	Address(pod *Pod) string
	// TemplateHash identifies what a pod of the pool would be made from now.
	TemplateHash(pool *arlv1alpha1.WarmPool) string
}

// TemplateWarner is a Runtime that runs some pool templates otherwise than
// a cluster would (package local: volume kinds it cannot provide). A
// WarmPool's create and update answer with its warnings about the pool's
// template (spec, at specPath).
type TemplateWarner interface {
	TemplateWarnings(spec *corev1.PodSpec, specPath *field.Path) []string
}

// Preparer is a Runtime with API calls to make before it runs (package
// kube: the sidecar CA). Options only build a runtime; the server calls
// Prepare once, in its post-start hook, before Run, and a replica whose
// Prepare fails stops there.
type Preparer interface {
	Prepare(ctx context.Context) error
}

// NetworkRuntime is a Runtime that isolates each pool's pods on the network
// (package kube: a NetworkPolicy per pool). The pool manager (Controller.Lead) keeps the isolation
// in step with the pool and creates no pod until it is in place.
type NetworkRuntime interface {
	// EnsurePoolNetwork makes the pool's isolation what its spec says now;
	// it returns what it changed, for an Event ("" when nothing).
	EnsurePoolNetwork(ctx context.Context, pool *arlv1alpha1.WarmPool) (string, error)
	// DeletePoolNetwork removes the isolation of a deleted pool.
	DeletePoolNetwork(ctx context.Context, namespace, pool string) error
	// NetworkPoolKeys lists the pools (namespace/name) that have isolation,
	// so pools deleted while no pool manager ran lose theirs too.
	NetworkPoolKeys() []string
}

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

// Package kube runs pool pods as Kubernetes pods: the executor container
// from the pool's template with ARL's agent wrapping its command, and a
// sidecar container serving the AgentService over mTLS.
package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// deleteGracePeriod: a pool pod holds nothing worth a long shutdown.
const deleteGracePeriod = 2

// Options configure the Kubernetes runtime.
type Options struct {
	Client kubernetes.Interface
	// SidecarImage runs the install init container and the sidecar.
	SidecarImage string
	// Namespace is the server's own, where the CA Secret lives.
	Namespace string
	// Identity names this replica (its client certificate).
	Identity string
}

// Runtime is the Kubernetes pool.Runtime.
type Runtime struct {
	opts    Options
	factory informers.SharedInformerFactory
	pods    cache.SharedIndexInformer
	lister  corelisters.PodLister
	creds   *credentials
	// owner is the server's Namespace: pool pods and sidecar Secrets, in
	// every namespace, name it as their owner, so an uninstall (which
	// deletes that namespace) leaves none behind.
	owner metav1.OwnerReference
}

var _ pool.Runtime = &Runtime{}

// New returns a runtime watching every pool pod in the cluster; it loads
// (or creates) the sidecar CA first.
func New(ctx context.Context, opts Options) (*Runtime, error) {
	creds, err := loadCredentials(ctx, opts.Client, opts.Namespace, opts.Identity)
	if err != nil {
		return nil, err
	}
	ns, err := opts.Client.CoreV1().Namespaces().Get(ctx, opts.Namespace, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("the server's namespace %s: %w", opts.Namespace, err)
	}
	hasPool, err := labels.NewRequirement(pool.LabelPool, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(opts.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = hasPool.String() }))
	podInformer := factory.Core().V1().Pods()
	return &Runtime{
		opts:    opts,
		factory: factory,
		pods:    podInformer.Informer(),
		lister:  podInformer.Lister(),
		creds:   creds,
		owner:   metav1.OwnerReference{APIVersion: "v1", Kind: "Namespace", Name: ns.Name, UID: ns.UID},
	}, nil
}

// Run implements pool.Runtime.
func (r *Runtime) Run(ctx context.Context, onChange func(*pool.Pod, bool)) error {
	_, err := r.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { onChange(toPod(obj.(*corev1.Pod)), false) },
		UpdateFunc: func(_, obj interface{}) { onChange(toPod(obj.(*corev1.Pod)), false) },
		DeleteFunc: func(obj interface{}) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				onChange(toPod(p), true)
			}
		},
	})
	if err != nil {
		return err
	}
	r.factory.Start(ctx.Done())
	go r.rotate(ctx)
	<-ctx.Done()
	r.factory.Shutdown()
	return nil
}

// HasSynced implements pool.Runtime.
func (r *Runtime) HasSynced() bool { return r.pods.HasSynced() }

// Get implements pool.Runtime.
func (r *Runtime) Get(namespace, name string) (*pool.Pod, bool) {
	p, err := r.lister.Pods(namespace).Get(name)
	if err != nil {
		return nil, false
	}
	return toPod(p), true
}

// List implements pool.Runtime.
func (r *Runtime) List(namespace, poolName string) []*pool.Pod {
	pods, _ := r.lister.Pods(namespace).List(labels.SelectorFromSet(labels.Set{pool.LabelPool: poolName}))
	return toPods(pods)
}

// ListAll implements pool.Runtime.
func (r *Runtime) ListAll() []*pool.Pod {
	pods, _ := r.lister.List(labels.Everything())
	return toPods(pods)
}

func toPods(pods []*corev1.Pod) []*pool.Pod {
	out := make([]*pool.Pod, 0, len(pods))
	for _, p := range pods {
		out = append(out, toPod(p))
	}
	return out
}

// TemplateHash implements pool.Runtime: the template and the sidecar image.
func (r *Runtime) TemplateHash(p *arl.WarmPool) string {
	return pool.HashTemplate(&p.Spec.Template, r.opts.SidecarImage)
}

// Target implements pool.Runtime: the pod's sidecar, over mTLS.
func (r *Runtime) Target(p *pool.Pod) client.Target {
	return client.Target{Address: net.JoinHostPort(p.IP, strconv.Itoa(SidecarPort)), TLS: r.creds.clientTLS}
}

// Address implements pool.Runtime.
func (r *Runtime) Address(p *pool.Pod) string { return p.IP }

// Create implements pool.Runtime.
func (r *Runtime) Create(ctx context.Context, p *arl.WarmPool) (*pool.Pod, error) {
	if err := r.ensureSecret(ctx, p.Namespace); err != nil {
		return nil, err
	}
	pod := buildPod(p, r.opts.SidecarImage, r.TemplateHash(p))
	pod.OwnerReferences = append(pod.OwnerReferences, r.owner)
	created, err := r.opts.Client.CoreV1().Pods(p.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return toPod(created), nil
}

// ensureSecret makes sure the namespace's sidecar TLS Secret exists. It asks
// the API server every time rather than remembering: a namespace deleted and
// created again under the same name loses its Secret, and a pod whose Secret
// is missing never starts. Pod creation is off the bind path, so one GET per
// new pod is cheap.
func (r *Runtime) ensureSecret(ctx context.Context, namespace string) error {
	secrets := r.opts.Client.CoreV1().Secrets(namespace)
	_, err := secrets.Get(ctx, TLSSecret, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if apierrors.IsNotFound(err) {
		var secret *corev1.Secret
		if secret, err = r.creds.sidecarSecret(namespace); err != nil {
			return err
		}
		secret.OwnerReferences = []metav1.OwnerReference{r.owner}
		_, err = secrets.Create(ctx, secret, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("sidecar TLS Secret %s/%s: %w", namespace, TLSSecret, err)
	}
	return nil
}

// Claim implements pool.Runtime: one conditional patch (the pod's
// resourceVersion is the precondition), so two replicas never bind one pod.
func (r *Runtime) Claim(ctx context.Context, p *pool.Pod, sandbox string) (*pool.Pod, error) {
	return r.patchState(ctx, p, pool.PodAllocated, &sandbox, time.Now().UTC().Format(time.RFC3339Nano))
}

// Release implements pool.Runtime.
func (r *Runtime) Release(ctx context.Context, p *pool.Pod) (*pool.Pod, error) {
	return r.patchState(ctx, p, pool.PodIdle, nil, "")
}

func (r *Runtime) patchState(ctx context.Context, p *pool.Pod, state pool.PodState, sandbox *string, claimedAt string) (*pool.Pod, error) {
	var claimed interface{}
	if claimedAt != "" {
		claimed = claimedAt
	}
	patch := map[string]interface{}{"metadata": map[string]interface{}{
		"resourceVersion": p.Version,
		"labels":          map[string]interface{}{pool.LabelState: string(state), pool.LabelSandbox: ptrOrNil(sandbox)},
		"annotations":     map[string]interface{}{AnnotationClaimedAt: claimed},
	}}
	data, err := json.Marshal(patch)
	if err != nil {
		return nil, err
	}
	updated, err := r.opts.Client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, data, metav1.PatchOptions{})
	if apierrors.IsConflict(err) {
		return nil, pool.ErrConflict
	}
	if err != nil {
		return nil, err
	}
	return toPod(updated), nil
}

func ptrOrNil(s *string) interface{} {
	if s == nil {
		return nil
	}
	return *s
}

// Delete implements pool.Runtime.
func (r *Runtime) Delete(ctx context.Context, p *pool.Pod) error {
	err := r.opts.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](deleteGracePeriod),
		Preconditions:      metav1.NewUIDPreconditions(string(p.UID)),
	})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

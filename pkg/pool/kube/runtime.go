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
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
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
	// PrivilegedNamespaces may run pools whose templates ask for what
	// reaches past the pod (validation.ValidatePodTemplatePrivileges); the
	// runtime creates no such pod elsewhere, even for a pool stored before
	// its namespace left the list.
	PrivilegedNamespaces sets.Set[string]
	// NetworkPolicies keeps a NetworkPolicy per pool (network.go).
	NetworkPolicies bool
	// ServerLabels select arl-apiserver's pods in Namespace: the only pods
	// the pools' NetworkPolicies let reach the sidecar.
	ServerLabels map[string]string
	// EgressDenied are ranges the Internet egress mode excludes besides the
	// non-public ones and kube-apiserver's addresses.
	EgressDenied []netip.Prefix
	// Resolver resolves egress DNS names; nil: the system's resolver.
	Resolver Resolver
}

// Runtime is the Kubernetes pool.Runtime.
type Runtime struct {
	opts      Options
	factories []informers.SharedInformerFactory
	pods      cache.SharedIndexInformer
	lister    corelisters.PodLister
	network   *network
	views     podViews

	// creds and owner are set by Prepare, before Run: every pod reaches the
	// other methods through the caches Run starts, so none of them runs
	// without these.
	creds *credentials
	// owner is the server's Namespace: pool pods and sidecar Secrets, in
	// every namespace, name it as their owner, so an uninstall (which
	// deletes that namespace) leaves none behind.
	owner metav1.OwnerReference
}

var (
	_ pool.Runtime        = &Runtime{}
	_ pool.Preparer       = &Runtime{}
	_ pool.NetworkRuntime = &Runtime{}
)

// New returns a runtime watching every pool pod in the cluster. It calls
// no API: Prepare does, before Run.
func New(opts Options) (*Runtime, error) {
	hasPool, err := labels.NewRequirement(arl.LabelPool, selection.Exists, nil)
	if err != nil {
		return nil, err
	}
	// Pool pods, and pool NetworkPolicies, carry the pool label.
	factory := informers.NewSharedInformerFactoryWithOptions(opts.Client, 0,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = hasPool.String() }))
	podInformer := factory.Core().V1().Pods()
	if err := podInformer.Informer().AddIndexers(cache.Indexers{poolIndex: poolIndexFunc}); err != nil {
		return nil, err
	}
	if err := podInformer.Informer().SetTransform(slimPod); err != nil {
		return nil, err
	}
	r := &Runtime{
		opts:      opts,
		factories: []informers.SharedInformerFactory{factory},
		pods:      podInformer.Informer(),
		lister:    podInformer.Lister(),
	}
	if opts.NetworkPolicies {
		apiServer := informers.NewSharedInformerFactoryWithOptions(opts.Client, 0, informers.WithNamespace(metav1.NamespaceDefault),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = discoveryv1.LabelServiceName + "=kubernetes" }))
		r.network = newNetwork(opts, factory, apiServer)
		r.factories = append(r.factories, apiServer)
	}
	return r, nil
}

// Prepare implements pool.Preparer: it loads (or creates) the sidecar CA,
// issues this replica's client certificate and reads the server's
// namespace, the owner of what the runtime creates.
func (r *Runtime) Prepare(ctx context.Context) error {
	creds, err := loadCredentials(ctx, r.opts.Client, r.opts.Namespace, r.opts.Identity)
	if err != nil {
		return err
	}
	ns, err := r.opts.Client.CoreV1().Namespaces().Get(ctx, r.opts.Namespace, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("the server's namespace %s: %w", r.opts.Namespace, err)
	}
	r.creds = creds
	r.owner = metav1.OwnerReference{APIVersion: "v1", Kind: "Namespace", Name: ns.Name, UID: ns.UID}
	return nil
}

// Run implements pool.Runtime. Without the sidecar CA no pod could be
// reached nor created: it refuses to run before Prepare.
func (r *Runtime) Run(ctx context.Context, onChange func(*pool.Pod, bool)) error {
	if r.creds == nil {
		return errors.New("the Kubernetes runtime runs only after Prepare (the sidecar CA is not loaded)")
	}
	_, err := r.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj interface{}) { onChange(r.views.view(obj.(*corev1.Pod)), false) },
		UpdateFunc: func(_, obj interface{}) { onChange(r.views.view(obj.(*corev1.Pod)), false) },
		DeleteFunc: func(obj interface{}) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				r.views.forget(p.UID)
				onChange(toPod(p), true)
			}
		},
	})
	if err != nil {
		return err
	}
	for _, f := range r.factories {
		f.Start(ctx.Done())
	}
	go r.rotate(ctx)
	<-ctx.Done()
	for _, f := range r.factories {
		f.Shutdown()
	}
	return nil
}

// HasSynced implements pool.Runtime.
func (r *Runtime) HasSynced() bool {
	return r.pods.HasSynced() && (r.network == nil || r.network.hasSynced())
}

// EnsurePoolNetwork implements pool.NetworkRuntime.
func (r *Runtime) EnsurePoolNetwork(ctx context.Context, p *arlv1alpha1.WarmPool) (string, error) {
	if r.network == nil {
		return "", nil
	}
	return r.network.ensure(ctx, p)
}

// DeletePoolNetwork implements pool.NetworkRuntime.
func (r *Runtime) DeletePoolNetwork(ctx context.Context, namespace, poolName string) error {
	if r.network == nil {
		return nil
	}
	return r.network.delete(ctx, namespace, poolName)
}

// NetworkPoolKeys implements pool.NetworkRuntime.
func (r *Runtime) NetworkPoolKeys() []string {
	if r.network == nil {
		return nil
	}
	return r.network.poolKeys()
}

// Get implements pool.Runtime.
func (r *Runtime) Get(namespace, name string) (*pool.Pod, bool) {
	p, err := r.lister.Pods(namespace).Get(name)
	if err != nil {
		return nil, false
	}
	return r.views.view(p), true
}

// List implements pool.Runtime.
func (r *Runtime) List(namespace, poolName string) []*pool.Pod {
	objs, _ := r.pods.GetIndexer().ByIndex(poolIndex, namespace+"/"+poolName)
	out := make([]*pool.Pod, 0, len(objs))
	for _, obj := range objs {
		out = append(out, r.views.view(obj.(*corev1.Pod)))
	}
	return out
}

// ListAll implements pool.Runtime.
func (r *Runtime) ListAll() []*pool.Pod {
	pods, _ := r.lister.List(labels.Everything())
	out := make([]*pool.Pod, 0, len(pods))
	for _, p := range pods {
		out = append(out, r.views.view(p))
	}
	return out
}

// podSpecRevision changes when buildPod makes different pods of the same
// template (a server upgrade that hardens them): idle pods of an older
// revision are replaced like those of an older template. 3: the sidecar's
// memory request (pods that can be resized in place).
const podSpecRevision = "3"

// TemplateHash implements pool.Runtime: the template, the sidecar image and
// the revision of what ARL adds to the template.
func (r *Runtime) TemplateHash(p *arlv1alpha1.WarmPool) string {
	return pool.HashTemplate(&p.Spec.Template, r.opts.SidecarImage, podSpecRevision)
}

// Target implements pool.Runtime: the pod's sidecar, over mTLS.
func (r *Runtime) Target(p *pool.Pod) client.Target {
	return client.Target{Address: net.JoinHostPort(p.IP, strconv.Itoa(SidecarPort)), TLS: r.creds.clientTLS}
}

// Address implements pool.Runtime.
func (r *Runtime) Address(p *pool.Pod) string { return p.IP }

// Create implements pool.Runtime.
func (r *Runtime) Create(ctx context.Context, p *arlv1alpha1.WarmPool) (*pool.Pod, error) {
	if !r.opts.PrivilegedNamespaces.Has(p.Namespace) {
		// Validation refused this at the pool's create or update, unless the
		// pool is older than the server's current --privileged-pool-namespaces.
		if errs := validation.ValidatePodTemplatePrivileges(&p.Spec.Template.Spec, field.NewPath("spec", "template", "spec")); len(errs) > 0 {
			return nil, fmt.Errorf("the pool's template asks for privileges: %w", errs.ToAggregate())
		}
	}
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
		"labels":          map[string]interface{}{arl.LabelState: string(state), arl.LabelSandbox: ptrOrNil(sandbox)},
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

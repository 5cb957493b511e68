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

package kube

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	networkinglisters "k8s.io/client-go/listers/networking/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

const (
	// dnsCacheTTL is how long a resolved egress DNS name is used before the
	// next sync of its pool resolves it again.
	dnsCacheTTL = 30 * time.Second
	// dnsLookupTimeout bounds the lookups of one pool's sync.
	dnsLookupTimeout = 3 * time.Second
)

// Resolver resolves an absolute host name to its addresses.
type Resolver func(ctx context.Context, host string) ([]netip.Addr, error)

// systemResolver asks the pod's resolver, without search domains (the
// trailing dot): the pool's pods have other search domains than the server.
func systemResolver(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", strings.TrimSuffix(host, ".")+".")
}

// network keeps each pool's NetworkPolicy.
type network struct {
	opts      Options
	policies  networkinglisters.NetworkPolicyLister
	synced    []cache.InformerSynced
	endpoints discoverylisters.EndpointSliceLister
	resolve   Resolver

	mu       sync.Mutex
	dnsCache map[string]dnsEntry
}

type dnsEntry struct {
	addrs   []netip.Addr
	err     error
	expires time.Time
}

// newNetwork watches pool NetworkPolicies (through the pool factory, whose
// label selector they match) and kube-apiserver's EndpointSlices, whose
// addresses the Internet mode excludes.
func newNetwork(opts Options, poolFactory informers.SharedInformerFactory, defaultNS informers.SharedInformerFactory) *network {
	policies := poolFactory.Networking().V1().NetworkPolicies()
	endpoints := defaultNS.Discovery().V1().EndpointSlices()
	resolve := opts.Resolver
	if resolve == nil {
		resolve = systemResolver
	}
	return &network{
		opts:      opts,
		policies:  policies.Lister(),
		endpoints: endpoints.Lister(),
		synced:    []cache.InformerSynced{policies.Informer().HasSynced, endpoints.Informer().HasSynced},
		resolve:   resolve,
		dnsCache:  map[string]dnsEntry{},
	}
}

func (n *network) hasSynced() bool {
	for _, synced := range n.synced {
		if !synced() {
			return false
		}
	}
	return true
}

// ensure writes the pool's NetworkPolicy when it differs from what the pool
// says now; it returns what it did ("" when nothing).
func (n *network) ensure(ctx context.Context, p *arlv1alpha1.WarmPool) (string, error) {
	resolved, unresolved := n.resolveNames(ctx, p)
	want := buildNetworkPolicy(p, n.config(), resolved)
	client := n.opts.Client.NetworkingV1().NetworkPolicies(p.Namespace)
	have, err := n.policies.NetworkPolicies(p.Namespace).Get(want.Name)
	action := ""
	switch {
	case apierrors.IsNotFound(err):
		_, err = client.Create(ctx, want, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			// The cache is behind; the next sync compares with it.
			return "", nil
		}
		action = "Created"
	case err != nil:
	case samePolicy(have, want):
		return "", nil
	default:
		update := have.DeepCopy()
		update.Labels, update.Annotations, update.Spec = want.Labels, want.Annotations, want.Spec
		_, err = client.Update(ctx, update, metav1.UpdateOptions{})
		action = "Updated"
	}
	if err != nil {
		return "", fmt.Errorf("NetworkPolicy %s/%s: %w", p.Namespace, want.Name, err)
	}
	msg := fmt.Sprintf("%s NetworkPolicy %s (egress %s)", action, want.Name, egressMode(p))
	if len(unresolved) > 0 {
		// Said when the policy changes, not on every sync.
		klog.FromContext(ctx).Info("Egress DNS names of a pool did not resolve; its pods cannot reach them",
			"pool", klog.KObj(p), "names", unresolved)
		msg += "; not allowed, as they did not resolve: " + strings.Join(unresolved, "; ")
	}
	return msg, nil
}

func egressMode(p *arlv1alpha1.WarmPool) arlv1alpha1.EgressMode {
	if p.Spec.Network.Egress.Mode == "" {
		return arlv1alpha1.EgressInternet
	}
	return p.Spec.Network.Egress.Mode
}

// samePolicy compares what ARL writes: labels and annotations it sets, and the spec.
func samePolicy(have, want *networkingv1.NetworkPolicy) bool {
	return apiequality.Semantic.DeepEqual(have.Spec, want.Spec) &&
		apiequality.Semantic.DeepEqual(have.Labels, want.Labels) &&
		apiequality.Semantic.DeepEqual(have.Annotations, want.Annotations)
}

// delete removes a deleted pool's NetworkPolicy.
func (n *network) delete(ctx context.Context, namespace, poolName string) error {
	name := networkPolicyName(poolName)
	if _, err := n.policies.NetworkPolicies(namespace).Get(name); apierrors.IsNotFound(err) {
		return nil
	}
	err := n.opts.Client.NetworkingV1().NetworkPolicies(namespace).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting NetworkPolicy %s/%s: %w", namespace, name, err)
	}
	return nil
}

// poolKeys are the pools that have a NetworkPolicy.
func (n *network) poolKeys() []string {
	policies, _ := n.policies.List(labels.SelectorFromSet(labels.Set{labelManagedBy: managedByARL}))
	var keys []string
	for _, np := range policies {
		if name := np.Labels[arl.LabelPool]; name != "" && np.Name == networkPolicyName(name) {
			keys = append(keys, np.Namespace+"/"+name)
		}
	}
	return keys
}

// config is what every pool's policy shares: arl-apiserver's pods, and the
// ranges the Internet mode excludes besides the non-public ones.
func (n *network) config() networkConfig {
	denied := slices.Clone(n.opts.EgressDenied)
	slices.SortFunc(denied, netip.Prefix.Compare)
	return networkConfig{
		serverNamespace: n.opts.Namespace,
		serverLabels:    n.opts.ServerLabels,
		denied:          append(denied, n.apiServerPrefixes()...),
	}
}

// apiServerPrefixes are kube-apiserver's own addresses, from the
// EndpointSlices of Service default/kubernetes: a managed cluster's may be
// public, and sandboxes must not reach it.
func (n *network) apiServerPrefixes() []netip.Prefix {
	eps, _ := n.endpoints.EndpointSlices(metav1.NamespaceDefault).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: "kubernetes"}))
	var out []netip.Prefix
	for _, slice := range eps {
		for _, ep := range slice.Endpoints {
			for _, a := range ep.Addresses {
				if addr, err := netip.ParseAddr(a); err == nil {
					out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
				}
			}
		}
	}
	slices.SortFunc(out, netip.Prefix.Compare)
	return slices.Compact(out)
}

// resolveNames resolves the pool's egress DNS names (cached for
// dnsCacheTTL) and says which did not resolve, with why.
func (n *network) resolveNames(ctx context.Context, p *arlv1alpha1.WarmPool) (map[string][]netip.Addr, []string) {
	var names []string
	for _, rule := range p.Spec.Network.Egress.Allow {
		if rule.DNSName != "" && !slices.Contains(names, rule.DNSName) {
			names = append(names, rule.DNSName)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, dnsLookupTimeout)
	defer cancel()
	entries := make([]dnsEntry, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entries[i] = n.lookup(ctx, name)
		}()
	}
	wg.Wait()
	resolved := map[string][]netip.Addr{}
	var unresolved []string
	for i, name := range names {
		e := entries[i]
		switch {
		case e.err != nil:
			unresolved = append(unresolved, fmt.Sprintf("%s: %v", name, e.err))
		case len(e.addrs) == 0:
			unresolved = append(unresolved, name+": no addresses")
		default:
			resolved[name] = e.addrs
		}
	}
	return resolved, unresolved
}

func (n *network) lookup(ctx context.Context, name string) dnsEntry {
	now := time.Now()
	n.mu.Lock()
	e, ok := n.dnsCache[name]
	n.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e
	}
	addrs, err := n.resolve(ctx, name)
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	e = dnsEntry{addrs: slices.Compact(addrs), err: err, expires: now.Add(dnsCacheTTL)}
	n.mu.Lock()
	defer n.mu.Unlock()
	// Names of deleted pools or rules expire here rather than pile up.
	for cached, entry := range n.dnsCache {
		if now.After(entry.expires) {
			delete(n.dnsCache, cached)
		}
	}
	n.dnsCache[name] = e
	return e
}

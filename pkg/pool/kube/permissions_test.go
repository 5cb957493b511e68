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
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	clienttesting "k8s.io/client-go/testing"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// allowed says whether one of perms grants the call.
func allowed(perms []Permission, namespace, group, resource, name, verb string) bool {
	return slices.ContainsFunc(perms, func(p Permission) bool {
		return (p.Namespace == "" || p.Namespace == namespace) && p.Group == group && p.Resource == resource &&
			slices.Contains(p.Verbs, verb) && (len(p.ResourceNames) == 0 || slices.Contains(p.ResourceNames, name))
	})
}

// TestRuntimeStaysWithinPermissions runs the runtime through a pool's life
// (start, pods created, claimed, released, deleted, its NetworkPolicy
// created, updated, deleted) and checks every call it made is one that
// Permissions grant, and that every permission was used.
func TestRuntimeStaysWithinPermissions(t *testing.T) {
	r, client := startRuntime(t, Options{NetworkPolicies: true})
	ctx := context.Background()
	p := manualPool()
	if _, err := r.EnsurePoolNetwork(ctx, p); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the policy in the cache", func() bool { return len(r.NetworkPoolKeys()) == 1 })
	p.Spec.Network.Egress.Mode = arlv1alpha1.EgressDenyAll
	if _, err := r.EnsurePoolNetwork(ctx, p); err != nil {
		t.Fatal(err)
	}
	created, err := r.Create(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	// Years later, the namespace's sidecar certificate is renewed.
	r.renewSidecarSecret(ctx, p.Namespace, time.Now().AddDate(10, 0, 0))
	claimed, err := r.Claim(ctx, created, "my-workspace")
	if err != nil {
		t.Fatal(err)
	}
	// The fake bumps no pod generation, so the resize has nothing to wait
	// for (resizeDone's test covers the wait): only its patch counts here.
	if err := r.Resize(ctx, claimed, corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}}); err != nil {
		t.Fatal(err)
	}
	released, err := r.Release(ctx, claimed)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, released); err != nil {
		t.Fatal(err)
	}
	if err := r.DeletePoolNetwork(ctx, p.Namespace, p.Name); err != nil {
		t.Fatal(err)
	}

	used := map[string]bool{} // permission index and verb
	for _, a := range client.Actions() {
		gvr := a.GetResource()
		if sub := a.GetSubresource(); sub != "" {
			gvr.Resource += "/" + sub
		}
		name := ""
		// Get, delete and patch actions name their object; an update
		// carries it.
		if named, ok := a.(interface{ GetName() string }); ok {
			name = named.GetName()
		} else if update, ok := a.(clienttesting.UpdateAction); ok {
			if m, err := meta.Accessor(update.GetObject()); err == nil {
				name = m.GetName()
			}
		}
		verb := a.GetVerb()
		if !allowed(Permissions, a.GetNamespace(), gvr.Group, gvr.Resource, name, verb) {
			t.Errorf("%s %s %q in namespace %q is not in Permissions", verb, gvr.GroupResource(), name, a.GetNamespace())
		}
		for i, p := range Permissions {
			if allowed([]Permission{p}, a.GetNamespace(), gvr.Group, gvr.Resource, name, verb) {
				used[fmt.Sprint(i, verb)] = true
			}
		}
	}
	for i, p := range Permissions {
		for _, verb := range p.Verbs {
			if !used[fmt.Sprint(i, verb)] {
				t.Errorf("%s of permission %+v was not used", verb, p)
			}
		}
	}
}

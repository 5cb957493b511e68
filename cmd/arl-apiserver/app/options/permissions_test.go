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

package options

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/arl-infra/arl/pkg/pool/kube"
	"github.com/arl-infra/arl/pkg/replicas"
)

const rbacManifest = "../../../../artifacts/deploy/04-rbac.yaml"

// grant is one verb on one resource (name) in one scope.
func grants(p kube.Permission) []string {
	names := p.ResourceNames
	if len(names) == 0 {
		names = []string{"*"}
	}
	scope := p.Namespace
	if scope == "" {
		scope = "cluster"
	}
	var out []string
	for _, verb := range p.Verbs {
		for _, name := range names {
			out = append(out, fmt.Sprintf("%s %s/%s %s %s", scope, p.Group, p.Resource, name, verb))
		}
	}
	return out
}

// TestRBACManifestGrantsWhatTheServerDeclares: 04-rbac.yaml grants
// arl-apiserver exactly Permissions(), no more and no less, bound to its
// service account, every rule with a comment saying why.
func TestRBACManifestGrantsWhatTheServerDeclares(t *testing.T) {
	data, err := os.ReadFile(rbacManifest)
	if err != nil {
		t.Fatal(err)
	}
	manifest := sets.New[string]()
	roles := map[string]string{} // kind/namespace/name → scope
	bound := sets.New[string]()
	decoder := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var doc struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Rules    []rbacv1.PolicyRule `json:"rules"`
			RoleRef  rbacv1.RoleRef      `json:"roleRef"`
			Subjects []rbacv1.Subject    `json:"subjects"`
		}
		if err := decoder.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		switch doc.Kind {
		case "ClusterRole", "Role":
			scope := "cluster"
			if doc.Kind == "Role" {
				scope = doc.Metadata.Namespace
			}
			roles[doc.Kind+"/"+doc.Metadata.Namespace+"/"+doc.Metadata.Name] = scope
			for _, rule := range doc.Rules {
				for _, group := range rule.APIGroups {
					for _, resource := range rule.Resources {
						manifest.Insert(grants(kube.Permission{Namespace: strings.TrimPrefix(scope, "cluster"),
							Group: group, Resource: resource, ResourceNames: rule.ResourceNames, Verbs: rule.Verbs})...)
					}
				}
			}
		case "ClusterRoleBinding", "RoleBinding":
			if len(doc.Subjects) == 1 && doc.Subjects[0].Kind == "ServiceAccount" && doc.Subjects[0].Name == "arl-apiserver" &&
				doc.Subjects[0].Namespace == kube.ServerNamespace {
				ns := ""
				if doc.Kind == "RoleBinding" && doc.RoleRef.Kind == "Role" {
					ns = doc.Metadata.Namespace
				}
				bound.Insert(doc.RoleRef.Kind + "/" + ns + "/" + doc.RoleRef.Name)
			}
		}
	}
	for role := range roles {
		if !bound.Has(role) {
			t.Errorf("%s is not bound to service account %s/arl-apiserver", role, kube.ServerNamespace)
		}
	}

	declared := sets.New[string]()
	for _, p := range Permissions() {
		if p.Why == "" {
			t.Errorf("permission %+v does not say why", p)
		}
		declared.Insert(grants(p)...)
	}
	if diff := cmp.Diff(sets.List(declared), sets.List(manifest)); diff != "" {
		t.Errorf("04-rbac.yaml and Permissions() differ (-declared +manifest):\n%s", diff)
	}

	// Each rule is preceded by its comment.
	scanner := bufio.NewScanner(bytes.NewReader(data))
	previous := ""
	for line := 1; scanner.Scan(); line++ {
		text := strings.TrimSpace(scanner.Text())
		if strings.HasPrefix(text, "- apiGroups:") && !strings.HasPrefix(previous, "#") {
			t.Errorf("%s:%d: a rule without a comment saying why", rbacManifest, line)
		}
		if text != "" {
			previous = text
		}
	}
}

// TestRunnerLeasesStayWithinPermissions: a replica's runner Lease is
// created, renewed, read by others and deleted with the verbs declared (on
// client-go's fake clientset: the calls, not kube-apiserver's answers).
func TestRunnerLeasesStayWithinPermissions(t *testing.T) {
	client := fake.NewClientset()
	leases := replicas.NewRunnerLeases(client, kube.ServerNamespace, "replica-a", "10.0.0.1:8443")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		leases.Keep(ctx)
		close(done)
	}()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		return leases.Alive("replica-a"), nil
	})
	if err != nil {
		t.Fatal("the runner Lease never appeared")
	}
	cancel()
	<-done
	for _, a := range client.Actions() {
		gvr := a.GetResource()
		ok := slices.ContainsFunc(Permissions(), func(p kube.Permission) bool {
			return p.Namespace == a.GetNamespace() && p.Group == gvr.Group && p.Resource == gvr.Resource && slices.Contains(p.Verbs, a.GetVerb())
		})
		if !ok {
			t.Errorf("%s %s in %q is not in Permissions()", a.GetVerb(), gvr.GroupResource(), a.GetNamespace())
		}
	}
}

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
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// policyAdmissionChain builds the admission chain an aggregated server gets
// from RecommendedOptions (genericoptions.NewAdmissionOptions: namespace
// lifecycle, admission policies and webhooks), with its real plugins. Only
// kube-apiserver, where the policies and namespaces live, is a test double:
// client-go's fake clientset, holding objects as kube-apiserver would
// serve them after defaulting (the e2e suite has the real one). The fake
// serves no OpenAPI, which MutatingAdmissionPolicy needs, so that plugin
// alone is left out.
func policyAdmissionChain(t *testing.T, objects ...runtime.Object) admission.Interface {
	t.Helper()
	config := genericapiserver.NewConfig(serializer.NewCodecFactory(runtime.NewScheme()))
	config.Authorization.Authorizer = authorizerfactory.NewAlwaysAllowAuthorizer()
	kube := kubefake.NewClientset(objects...)
	factory := informers.NewSharedInformerFactory(kube, 0)
	options := genericoptions.NewAdmissionOptions()
	options.DisablePlugins = []string{"MutatingAdmissionPolicy"}
	err := options.ApplyTo(config, factory, kube, dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()),
		utilfeature.DefaultFeatureGate, compatibility.DefaultBuildEffectiveVersion())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		factory.Shutdown()
	})
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())
	return config.AdmissionControl
}

var tasksRule = admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
	Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
	Rule: admissionregistrationv1.Rule{
		APIGroups: []string{arlv1alpha1.GroupName}, APIVersions: []string{"v1alpha1"}, Resources: []string{"tasks"},
		Scope: ptr.To(admissionregistrationv1.NamespacedScope),
	},
}}

// matchTasks matches creates of Tasks, as kube-apiserver defaults it.
var matchTasks = &admissionregistrationv1.MatchResources{
	NamespaceSelector: &metav1.LabelSelector{},
	ObjectSelector:    &metav1.LabelSelector{},
	MatchPolicy:       ptr.To(admissionregistrationv1.Equivalent),
	ResourceRules:     []admissionregistrationv1.NamedRuleWithOperations{tasksRule},
}

// noRmRf is the e2e suite's policy: no step's command may hold "rm -rf /".
func noRmRf() []runtime.Object {
	return []runtime.Object{
		&admissionregistrationv1.ValidatingAdmissionPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "no-rm-rf"},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				FailurePolicy:    ptr.To(admissionregistrationv1.Fail),
				MatchConstraints: matchTasks,
				Validations: []admissionregistrationv1.Validation{{
					Expression: `!object.spec.steps.exists(s, has(s.command) && s.command.exists(c, c.contains('rm -rf /')))`,
					Message:    "Tasks may not run rm -rf /",
					Reason:     ptr.To(metav1.StatusReasonForbidden),
				}},
			},
		},
		&admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "no-rm-rf"},
			Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        "no-rm-rf",
				MatchResources:    &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{}, ObjectSelector: &metav1.LabelSelector{}, MatchPolicy: ptr.To(admissionregistrationv1.Equivalent)},
				ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny},
			},
		},
	}
}

func testNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}}}
}

func TestExecCreateMeetsValidatingAdmissionPolicy(t *testing.T) {
	chain := policyAdmissionChain(t, append(noRmRf(), testNamespace("test"))...)
	storage := newExecStorage(t, CreateChecks{Admission: chain})
	someone := &user.DefaultInfo{Name: "someone"}

	err := storage.Exec.create(execContext(someone, "wipe"), "wipe", execBody(t, "wipe", "echo", "rm -rf /"))
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "Tasks may not run rm -rf /") ||
		!strings.Contains(err.Error(), "no-rm-rf") {
		t.Fatalf("got %v, want the policy's Forbidden", err)
	}
	mustNotBeStored(t, storage, "wipe")

	if err := storage.Exec.create(execContext(someone, "fine"), "fine", execBody(t, "fine", "echo", "hi")); err != nil {
		t.Fatalf("a Task the policy allows: %v", err)
	}
	mustBeStored(t, storage, "fine")
}

// NamespaceLifecycle is in the chain too: no Task in a namespace that does
// not exist, through exec as through create.
func TestExecCreateMeetsNamespaceLifecycle(t *testing.T) {
	chain := policyAdmissionChain(t)
	storage := newExecStorage(t, CreateChecks{Admission: chain})
	err := storage.Exec.create(execContext(&user.DefaultInfo{Name: "someone"}, "t"), "t", execBody(t, "t", "true"))
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `namespaces "test" not found`) {
		t.Fatalf("got %v, want NamespaceLifecycle's NotFound", err)
	}
	mustNotBeStored(t, storage, "t")
}

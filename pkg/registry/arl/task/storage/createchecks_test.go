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
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authorizerunion "k8s.io/apiserver/pkg/authorization/union"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/registry/arl/registrytest"
)

// newExecStorage is Task storage on a real etcd whose tasks/exec decodes
// bodies as the server does and creates their Tasks through checks. It
// runs no Tasks (no executor): these tests are about what gets stored.
func newExecStorage(t *testing.T, checks CreateChecks) TaskStorage {
	t.Helper()
	opts, scheme := registrytest.NewRESTOptions(t, "tasks")
	storage, err := NewStorage(scheme, opts, nil, nil, serializer.NewCodecFactory(scheme).UniversalDecoder(), checks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(storage.Task.Store.DestroyFunc)
	return storage
}

// execContext is the context a POST tasks/{name}/exec in namespace
// "test" by u reaches the Connecter with.
func execContext(u user.Info, name string) context.Context {
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	ctx = genericapirequest.WithUser(ctx, u)
	return genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: "create", APIPrefix: "apis",
		APIGroup: arl.GroupName, APIVersion: "v1alpha1", Namespace: "test",
		Resource: "tasks", Subresource: "exec", Name: name,
		Path: "/apis/arl.infra.io/v1alpha1/namespaces/test/tasks/" + name + "/exec",
	})
}

// execBody is a tasks/exec body: a v1alpha1 Task running argv.
func execBody(t *testing.T, name string, argv ...string) []byte {
	t.Helper()
	body, err := json.Marshal(arlv1alpha1.Task{
		TypeMeta:   metav1.TypeMeta{APIVersion: arlv1alpha1.SchemeGroupVersion.String(), Kind: "Task"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: arlv1alpha1.TaskSpec{
			SandboxRef: "my-workspace",
			Steps:      []arlv1alpha1.TaskStep{{Name: "run", Type: arlv1alpha1.StepCommand, Command: argv}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func mustNotBeStored(t *testing.T, storage TaskStorage, name string) {
	t.Helper()
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	if _, err := storage.Task.Get(ctx, name, &metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Task %s: got %v, want NotFound: nothing may be stored", name, err)
	}
}

func mustBeStored(t *testing.T, storage TaskStorage, name string) *arl.Task {
	t.Helper()
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "test")
	got, err := storage.Task.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		t.Fatalf("Task %s was not stored: %v", name, err)
	}
	return got.(*arl.Task)
}

// rbacDouble is a test double of RBAC: it allows a user what its rules
// grant (verb, resource or resource/subresource, namespace; rules are
// ANDed per field, as one RBAC PolicyRule) and has no opinion otherwise. It
// records every question it was asked.
type rbacDouble struct {
	rules map[string][]rbacRule // by user name
	mu    sync.Mutex
	asked []authorizer.Attributes
}

type rbacRule struct{ verb, resource, namespace string }

func (a *rbacDouble) authorizer() authorizer.Authorizer {
	return authorizer.AuthorizerFunc(a.authorize)
}

func (a *rbacDouble) authorize(_ context.Context, attrs authorizer.Attributes) (authorizer.Decision, string, error) {
	a.mu.Lock()
	a.asked = append(a.asked, attrs)
	a.mu.Unlock()
	resource := attrs.GetResource()
	if sub := attrs.GetSubresource(); sub != "" {
		resource += "/" + sub
	}
	for _, r := range a.rules[attrs.GetUser().GetName()] {
		if attrs.IsResourceRequest() && attrs.GetAPIGroup() == arl.GroupName &&
			r.verb == attrs.GetVerb() && r.resource == resource && r.namespace == attrs.GetNamespace() {
			return authorizer.DecisionAllow, "", nil
		}
	}
	return authorizer.DecisionNoOpinion, "no RBAC rule of the test double allows it", nil
}

// failingAuthorizer stands for an authorizer that cannot decide (a
// SubjectAccessReview that did not get through).
var failingAuthorizer = authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return authorizer.DecisionNoOpinion, "", errors.New("the authorization webhook is unreachable")
})

func TestExecCreateIsAuthorizedAsCreateTasks(t *testing.T) {
	rbac := &rbacDouble{rules: map[string][]rbacRule{
		"exec-only": {{"create", "tasks/exec", "test"}, {"get", "tasks", "test"}},
		"creator":   {{"create", "tasks/exec", "test"}, {"create", "tasks", "test"}},
		"elsewhere": {{"create", "tasks/exec", "test"}, {"create", "tasks", "other"}},
	}}
	// As the servers have it: system:masters may do anything, then RBAC.
	authz, err := authorizerunion.New(
		authorizerunion.NamedAuthorizer{AuthorizerName: "privileged-groups", Authorizer: authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)},
		authorizerunion.NamedAuthorizer{AuthorizerName: "rbac-double", Authorizer: rbac.authorizer()},
	)
	if err != nil {
		t.Fatal(err)
	}
	storage := newExecStorage(t, CreateChecks{Authorizer: authz})

	for _, name := range []string{"exec-only", "elsewhere"} {
		t.Run(name+" may not create the Task", func(t *testing.T) {
			task := name + "-task"
			err := storage.Exec.create(execContext(&user.DefaultInfo{Name: name}, task), task, execBody(t, task, "true"))
			if !apierrors.IsForbidden(err) {
				t.Fatalf("got %v, want Forbidden", err)
			}
			want := fmt.Sprintf(`User %q cannot create resource "tasks" in API group "arl.infra.io" in the namespace "test"`, name)
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "tasks/exec") {
				t.Errorf("the 403 must say what is missing (%s) and why exec needs it: %v", want, err)
			}
			mustNotBeStored(t, storage, task)
		})
	}

	t.Run("the question is a create of tasks", func(t *testing.T) {
		rbac.mu.Lock()
		defer rbac.mu.Unlock()
		if len(rbac.asked) == 0 {
			t.Fatal("the authorizer was not asked")
		}
		a := rbac.asked[0]
		if a.GetUser().GetName() != "exec-only" || a.GetVerb() != "create" || !a.IsResourceRequest() ||
			a.GetAPIGroup() != arl.GroupName || a.GetAPIVersion() != "v1alpha1" || a.GetResource() != "tasks" ||
			a.GetSubresource() != "" || a.GetNamespace() != "test" || a.GetName() != "" {
			t.Errorf("asked %#v, want what a POST .../namespaces/test/tasks asks", a)
		}
	})

	t.Run("creator", func(t *testing.T) {
		err := storage.Exec.create(execContext(&user.DefaultInfo{Name: "creator"}, "creator-task"), "creator-task", execBody(t, "creator-task", "true"))
		if err != nil {
			t.Fatal(err)
		}
		mustBeStored(t, storage, "creator-task")
	})

	t.Run("system:masters", func(t *testing.T) {
		admin := &user.DefaultInfo{Name: "admin", Groups: []string{user.SystemPrivilegedGroup}}
		if err := storage.Exec.create(execContext(admin, "admin-task"), "admin-task", execBody(t, "admin-task", "true")); err != nil {
			t.Fatal(err)
		}
		mustBeStored(t, storage, "admin-task")
	})

	t.Run("exec-only cannot resend a stored Task either", func(t *testing.T) {
		err := storage.Exec.create(execContext(&user.DefaultInfo{Name: "exec-only"}, "creator-task"), "creator-task", execBody(t, "creator-task", "true"))
		if !apierrors.IsForbidden(err) {
			t.Fatalf("got %v, want Forbidden", err)
		}
	})
}

func TestExecCreateWhenTheAuthorizerFails(t *testing.T) {
	storage := newExecStorage(t, CreateChecks{Authorizer: failingAuthorizer})
	err := storage.Exec.create(execContext(&user.DefaultInfo{Name: "someone"}, "t"), "t", execBody(t, "t", "true"))
	if !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("got %v, want the InternalError the authorization filter answers", err)
	}
	mustNotBeStored(t, storage, "t")
}

// No authorizer and no admission chain: the server runs neither (as its
// handler chain does), and exec creates as it always did.
func TestExecCreateWithoutChecks(t *testing.T) {
	storage := newExecStorage(t, CreateChecks{})
	if err := storage.Exec.create(execContext(&user.DefaultInfo{Name: "anyone"}, "t"), "t", execBody(t, "t", "true")); err != nil {
		t.Fatal(err)
	}
	mustBeStored(t, storage, "t")
}

// recordingAdmission is a test double of an admission chain: its mutating
// half labels the Task, its validating half denies a Task whose command
// has deny in it; both record what they saw, in order.
type recordingAdmission struct {
	*admission.Handler
	deny string
	mu   sync.Mutex
	seen []seenAttributes
}

type seenAttributes struct {
	phase string // "mutate" or "validate"
	attrs admission.Attributes
	label string // the Task's "admitted" label when it was seen
}

func newRecordingAdmission(deny string) *recordingAdmission {
	return &recordingAdmission{Handler: admission.NewHandler(admission.Create, admission.Update, admission.Connect), deny: deny}
}

func (a *recordingAdmission) record(phase string, attrs admission.Attributes) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := seenAttributes{phase: phase, attrs: attrs}
	if task, ok := attrs.GetObject().(*arl.Task); ok {
		s.label = task.Labels["admitted"]
	}
	a.seen = append(a.seen, s)
}

func (a *recordingAdmission) Admit(_ context.Context, attrs admission.Attributes, _ admission.ObjectInterfaces) error {
	a.record("mutate", attrs)
	if task, ok := attrs.GetObject().(*arl.Task); ok {
		if task.Labels == nil {
			task.Labels = map[string]string{}
		}
		task.Labels["admitted"] = "yes"
	}
	return nil
}

func (a *recordingAdmission) Validate(_ context.Context, attrs admission.Attributes, _ admission.ObjectInterfaces) error {
	a.record("validate", attrs)
	if task, ok := attrs.GetObject().(*arl.Task); ok {
		for _, step := range task.Spec.Steps {
			if strings.Contains(strings.Join(step.Command, " "), a.deny) {
				return admission.NewForbidden(attrs, fmt.Errorf("Tasks may not run %q", a.deny))
			}
		}
	}
	return nil
}

func TestExecCreateIsAdmittedAsCreateTasks(t *testing.T) {
	chain := newRecordingAdmission("rm -rf /")
	rbac := &rbacDouble{rules: map[string][]rbacRule{
		"creator":   {{"create", "tasks/exec", "test"}, {"create", "tasks", "test"}},
		"exec-only": {{"create", "tasks/exec", "test"}},
	}}
	storage := newExecStorage(t, CreateChecks{Authorizer: rbac.authorizer(), Admission: chain})
	creator := &user.DefaultInfo{Name: "creator", Groups: []string{"devs"}}

	t.Run("an allowed Task is mutated, validated and stored", func(t *testing.T) {
		if err := storage.Exec.create(execContext(creator, "fine"), "fine", execBody(t, "fine", "echo", "hi")); err != nil {
			t.Fatal(err)
		}
		if got := mustBeStored(t, storage, "fine"); got.Labels["admitted"] != "yes" {
			t.Errorf("the stored Task lacks the mutating admission's label: %v", got.Labels)
		}
		chain.mu.Lock()
		defer chain.mu.Unlock()
		if len(chain.seen) != 2 || chain.seen[0].phase != "mutate" || chain.seen[1].phase != "validate" {
			t.Fatalf("admission saw %+v, want mutate then validate", chain.seen)
		}
		if chain.seen[1].label != "yes" {
			t.Errorf("validating admission saw the Task before its mutation")
		}
		for _, s := range chain.seen {
			a := s.attrs
			if a.GetOperation() != admission.Create || a.GetSubresource() != "" || a.IsDryRun() ||
				a.GetKind() != arlv1alpha1.SchemeGroupVersion.WithKind("Task") ||
				a.GetResource() != arlv1alpha1.SchemeGroupVersion.WithResource("tasks") ||
				a.GetNamespace() != "test" || a.GetName() != "fine" || a.GetOldObject() != nil {
				t.Errorf("%s: attributes %+v, want a create of tasks/fine in test", s.phase, a)
			}
			if u := a.GetUserInfo(); u == nil || u.GetName() != "creator" || len(u.GetGroups()) != 1 || u.GetGroups()[0] != "devs" {
				t.Errorf("%s: user %+v, want the request's", s.phase, u)
			}
			if opts, ok := a.GetOperationOptions().(*metav1.CreateOptions); !ok || opts.GroupVersionKind() != metav1.SchemeGroupVersion.WithKind("CreateOptions") {
				t.Errorf("%s: options %#v, want meta/v1 CreateOptions", s.phase, a.GetOperationOptions())
			}
			if _, ok := a.GetObject().(*arl.Task); !ok {
				t.Errorf("%s: object %T, want the internal Task (as the create handler passes)", s.phase, a.GetObject())
			}
		}
	})

	t.Run("a denied Task is not stored", func(t *testing.T) {
		err := storage.Exec.create(execContext(creator, "wipe"), "wipe", execBody(t, "wipe", "echo", "rm -rf /"))
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `Tasks may not run "rm -rf /"`) {
			t.Fatalf("got %v, want the admission's Forbidden", err)
		}
		mustNotBeStored(t, storage, "wipe")
	})

	t.Run("an unauthorized user never reaches admission", func(t *testing.T) {
		chain.mu.Lock()
		before := len(chain.seen)
		chain.mu.Unlock()
		err := storage.Exec.create(execContext(&user.DefaultInfo{Name: "exec-only"}, "sneaky"), "sneaky", execBody(t, "sneaky", "true"))
		if !apierrors.IsForbidden(err) {
			t.Fatalf("got %v, want Forbidden", err)
		}
		chain.mu.Lock()
		defer chain.mu.Unlock()
		if len(chain.seen) != before {
			t.Errorf("admission saw an unauthorized create: %+v", chain.seen[before:])
		}
		mustNotBeStored(t, storage, "sneaky")
	})
}

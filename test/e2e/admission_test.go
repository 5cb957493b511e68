package e2e

// tasks/exec with a Task in its body creates that Task: arl-apiserver
// authorizes it as `create tasks` (a SubjectAccessReview through its
// delegated authorizer) and runs its admission chain on it as on a
// `kubectl create` of the Task, so neither RBAC nor a policy on Tasks can
// be bypassed through exec.

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// noRmRfPolicy is a ValidatingAdmissionPolicy (CEL, in arl-apiserver's own
// admission chain: kube-apiserver proxies ARL's requests, its admission
// never sees them) denying Tasks whose commands hold "rm -rf /", bound to
// one namespace only: the policy is cluster-wide, the test's namespace is
// not. Arguments: name (of both), namespace.
const noRmRfPolicy = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: %[1]s
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: ["arl.infra.io"]
      apiVersions: ["v1alpha1"]
      operations: ["CREATE"]
      resources: ["tasks"]
  validations:
  - expression: "!object.spec.steps.exists(s, has(s.command) && s.command.exists(c, c.contains('rm -rf /')))"
    message: "Tasks may not run rm -rf /"
    reason: Forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: %[1]s
spec:
  policyName: %[1]s
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels:
        kubernetes.io/metadata.name: %[2]s
`

const noRmRfMessage = "Tasks may not run rm -rf /"

// mustNotExist fails the test if the Task was stored.
func mustNotExist(t *testing.T, ns, name string) {
	t.Helper()
	r := runKubectl(kubeconfig, "", "get", "task", name, "-n", ns, "-o", "name")
	if r.err == nil || !strings.Contains(r.stderr, "NotFound") {
		t.Errorf("Task %s/%s must not be stored: %s", ns, name, r)
	}
}

func TestExecMeetsValidatingAdmissionPolicy(t *testing.T) {
	ns := taskEnv(t, "vap", 1, "sb")
	policy := "arl-e2e-no-rm-rf-" + randSuffix()
	kubectlIn(t, fmt.Sprintf(noRmRfPolicy, policy, ns), "create", "-f", "-")
	t.Cleanup(func() {
		for _, kind := range []string{"validatingadmissionpolicybinding", "validatingadmissionpolicy"} {
			if r := runKubectl(kubeconfig, "", "delete", kind, policy, "--ignore-not-found"); r.err != nil {
				t.Logf("cleanup: %s", r)
			}
		}
	})

	// The policy reaches each arl-apiserver replica's informers a moment
	// after it is created, and kube-apiserver sends each request to any
	// replica: wait until server-side dry runs of the create, which store
	// nothing, are denied many times in a row (each replica then has it,
	// but for a chance of 2^-denialsInARow with two replicas).
	const denialsInARow = 12
	wipe := newTask("wipe", "sb", command("wipe", "echo", "rm -rf /"))
	denials := 0
	waitFor(t, 2*time.Minute, "the policy to deny dry-run creates of the Task on every replica", func() (bool, string) {
		r := runKubectl(kubeconfig, wipe.json(), "create", "-n", ns, "--dry-run=server", "-f", "-")
		if r.err != nil && strings.Contains(r.stderr, noRmRfMessage) {
			denials++
		} else {
			denials = 0
		}
		return denials == denialsInARow, r.String()
	})

	t.Run("kubectl create", func(t *testing.T) {
		r := runKubectl(kubeconfig, wipe.json(), "create", "-n", ns, "-f", "-")
		if r.err == nil || !strings.Contains(r.stderr, noRmRfMessage) || !strings.Contains(r.stderr, policy) {
			t.Errorf("create of a Task the policy denies: %s", r)
		}
		mustNotExist(t, ns, "wipe")
	})

	t.Run("tasks/exec", func(t *testing.T) {
		r := runKubectl(kubeconfig, wipe.json(), "create", "--raw", execPath(ns, "wipe"), "-f", "-")
		if r.err == nil || !strings.Contains(r.stderr, noRmRfMessage) || !strings.Contains(r.stderr, policy) {
			t.Errorf("exec of a Task the policy denies: %s", r)
		}
		mustNotExist(t, ns, "wipe")
	})

	t.Run("tasks/exec of a Task the policy allows", func(t *testing.T) {
		task := execTask(t, ns, newTask("fine", "sb", command("hi", "echo", "hi")))
		if task.Status.State != "Succeeded" || task.Status.Stdout != "hi\n" {
			t.Errorf("exec of an allowed Task: %s", task)
		}
	})
}

// execOnlyRole grants running Tasks through exec and reading them, not
// creating them; extraVerbs adds verbs on tasks. Arguments: name, extra verbs.
const execOnlyRole = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: %[1]s
rules:
- apiGroups: ["arl.infra.io"]
  resources: ["tasks/exec"]
  verbs: ["create"]
- apiGroups: ["arl.infra.io"]
  resources: ["tasks"]
  verbs: ["get"%[2]s]
`

func TestExecNeedsCreateTasks(t *testing.T) {
	ns := taskEnv(t, "exec-rbac", 1, "sb")
	user := serviceAccountUser(t, ns, "exec-only")
	who := "system:serviceaccount:" + ns + ":exec-only"
	kubectlIn(t, fmt.Sprintf(execOnlyRole, "exec-only", ""), "create", "-n", ns, "-f", "-")
	kubectl(t, "create", "rolebinding", "exec-only", "-n", ns, "--role=exec-only", "--serviceaccount="+ns+":exec-only")
	// kube-apiserver's RBAC sees the binding once its informers do.
	waitFor(t, time.Minute, "the exec-only Role to apply", func() (bool, string) {
		r := runKubectl(user, "", "auth", "can-i", "create", "tasks."+arlGroup, "--subresource=exec", "-n", ns)
		return strings.TrimSpace(r.stdout) == "yes", r.String()
	})
	if r := runKubectl(user, "", "auth", "can-i", "create", "tasks."+arlGroup, "-n", ns); strings.TrimSpace(r.stdout) != "no" {
		t.Fatalf("exec-only can-i create tasks: %s", r)
	}

	task := newTask("by-exec", "sb", command("hi", "echo", "hi"))
	t.Run("a Task in the body needs create on tasks", func(t *testing.T) {
		r := runKubectl(user, task.json(), "create", "--raw", execPath(ns, task.name()), "-f", "-")
		want := fmt.Sprintf(`User %q cannot create resource "tasks" in API group %q in the namespace %q`, who, arlGroup, ns)
		if !forbidden(r) || !strings.Contains(r.stderr, want) {
			t.Errorf("exec with a Task body by a user without create tasks: want Forbidden saying %s, got %s", want, r)
		}
		mustNotExist(t, ns, task.name())
	})

	t.Run("exec without a body awaits a stored Task", func(t *testing.T) {
		createTask(t, ns, newTask("by-admin", "sb", command("hi", "echo", "stored")))
		r := runKubectl(user, "", "create", "--raw", execPath(ns, "by-admin"), "-f", "/dev/null")
		if r.err != nil || !strings.Contains(r.stdout, `"stdout":"stored\n"`) {
			t.Errorf("exec without a body by exec-only: %s", r)
		}
	})

	t.Run("with create on tasks, exec creates and runs the Task", func(t *testing.T) {
		kubectlIn(t, fmt.Sprintf(execOnlyRole, "exec-only", `, "create"`), "apply", "-n", ns, "-f", "-")
		// arl-apiserver's delegated authorizer caches a denial for 10 s and
		// kube-apiserver's RBAC follows the Role by a watch: retry until the
		// exec is allowed (a denied try stores nothing).
		var r kubectlResult
		waitFor(t, 2*time.Minute, "exec-only's exec with a body to be allowed", func() (bool, string) {
			r = runKubectl(user, task.json(), "create", "--raw", execPath(ns, task.name()), "-f", "-")
			if forbidden(r) {
				return false, r.String()
			}
			return true, ""
		})
		if r.err != nil {
			t.Fatalf("exec with create on tasks: %s", r)
		}
		var done taskObj
		decode(t, r.stdout, &done)
		if done.Status.State != "Succeeded" || done.Status.Stdout != "hi\n" {
			t.Errorf("exec with create on tasks answered %s", done)
		}
	})
}

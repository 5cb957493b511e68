package e2e

// RBAC through the aggregation layer, with real identities (service account
// tokens from the TokenRequest API, sent by kubectl as a user would): the
// artifacts' ClusterRoles arl-view/arl-edit, aggregated into view/edit.

import (
	"fmt"
	"strings"
	"testing"
)

func forbidden(r kubectlResult) bool {
	return r.err != nil && (strings.Contains(r.stderr, "Forbidden") || strings.Contains(r.stderr, "forbidden"))
}

func TestRBAC(t *testing.T) {
	requireARL(t)
	nsA := newNamespace(t, "rbac-a")
	nsB := newNamespace(t, "rbac-b")

	viewer := serviceAccountUser(t, nsA, "viewer")
	editor := serviceAccountUser(t, nsA, "arl-editor")
	kubeEditor := serviceAccountUser(t, nsA, "kube-editor")
	nsAdmin := serviceAccountUser(t, nsA, "ns-admin")
	kubectl(t, "create", "rolebinding", "ns-admin", "-n", nsA, "--clusterrole=admin", "--serviceaccount="+nsA+":ns-admin")
	kubectl(t, "create", "rolebinding", "viewer", "-n", nsA, "--clusterrole=view", "--serviceaccount="+nsA+":viewer")
	kubectl(t, "create", "rolebinding", "arl-editor", "-n", nsA, "--clusterrole=arl-edit", "--serviceaccount="+nsA+":arl-editor")
	kubectl(t, "create", "rolebinding", "kube-editor", "-n", nsA, "--clusterrole=edit", "--serviceaccount="+nsA+":kube-editor")

	// The identities are what kube-apiserver says they are.
	if who := runKubectl(viewer, "", "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"); who.err != nil ||
		who.stdout != "system:serviceaccount:"+nsA+":viewer" {
		t.Fatalf("whoami as viewer: %s", who)
	}

	// Objects the users act on, made by the admin in both namespaces.
	for _, ns := range []string{nsA, nsB} {
		kubectlIn(t, fmt.Sprintf(warmPoolYAML, 0), "create", "-n", ns, "-f", "-")
		kubectlIn(t, sandboxYAML, "create", "-n", ns, "-f", "-")
		kubectlIn(t, taskYAML, "create", "-n", ns, "-f", "-")
	}
	task := func(name string) string { return strings.Replace(taskYAML, "name: hello-task", "name: "+name, 1) }

	t.Run("view can read but not create a Task", func(t *testing.T) {
		for _, plural := range []string{"warmpools", "sandboxes", "tasks"} {
			if r := runKubectl(viewer, "", "get", plural, "-n", nsA); r.err != nil {
				t.Errorf("viewer get %s: %s", plural, r)
			}
		}
		if r := runKubectl(viewer, "", "get", "task", "hello-task", "-n", nsA, "-o", "name"); r.err != nil || strings.TrimSpace(r.stdout) != "task.arl.infra.io/hello-task" {
			t.Errorf("viewer get task: %s", r)
		}
		r := runKubectl(viewer, task("viewer-task"), "create", "-n", nsA, "-f", "-")
		if !forbidden(r) {
			t.Errorf("viewer create task: want Forbidden, got %s", r)
		}
		for _, verb := range []string{"create", "delete", "patch"} {
			if r := runKubectl(viewer, "", "auth", "can-i", verb, "tasks."+arlGroup, "-n", nsA); strings.TrimSpace(r.stdout) != "no" {
				t.Errorf("viewer can-i %s tasks: %s", verb, r)
			}
		}
		if r := runKubectl(viewer, "", "delete", "task", "hello-task", "-n", nsA); !forbidden(r) {
			t.Errorf("viewer delete task: want Forbidden, got %s", r)
		}
	})

	t.Run("arl-edit can create, update and delete", func(t *testing.T) {
		r := runKubectl(editor, task("editor-task"), "create", "-n", nsA, "-f", "-")
		if r.err != nil || !strings.Contains(r.stdout, "task.arl.infra.io/editor-task created") {
			t.Fatalf("arl-edit create task: %s", r)
		}
		r = runKubectl(editor, strings.Replace(sandboxYAML, "name: my-workspace", "name: editor-sandbox", 1), "create", "-n", nsA, "-f", "-")
		if r.err != nil {
			t.Errorf("arl-edit create sandbox: %s", r)
		}
		if r := runKubectl(editor, "", "label", "task", "editor-task", "-n", nsA, "touched=yes"); r.err != nil {
			t.Errorf("arl-edit label task: %s", r)
		}
		if r := runKubectl(editor, "", "delete", "task", "editor-task", "-n", nsA); r.err != nil {
			t.Errorf("arl-edit delete task: %s", r)
		}
		if r := runKubectl(editor, "", "delete", "sandbox", "editor-sandbox", "-n", nsA); r.err != nil {
			t.Errorf("arl-edit delete sandbox: %s", r)
		}
		// Pools are the namespace admin's (arl-admin): an editor uses them, does not make them.
		if r := runKubectl(editor, strings.Replace(fmt.Sprintf(warmPoolYAML, 0), "python-pool", "editor-pool", 1), "create", "-n", nsA, "-f", "-"); !forbidden(r) {
			t.Errorf("arl-edit create warmpool: want Forbidden, got %s", r)
		}
		if r := runKubectl(editor, "", "get", "warmpools", "-n", nsA); r.err != nil {
			t.Errorf("arl-edit list warmpools: %s", r)
		}
		// arl-edit grants ARL only, not the rest of edit.
		if r := runKubectl(editor, "", "get", "secrets", "-n", nsA); !forbidden(r) {
			t.Errorf("arl-edit get secrets: want Forbidden, got %s", r)
		}
	})

	t.Run("edit aggregates arl-edit", func(t *testing.T) {
		r := runKubectl(kubeEditor, task("kube-editor-task"), "create", "-n", nsA, "-f", "-")
		if r.err != nil {
			t.Fatalf("edit create task: %s", r)
		}
		if r := runKubectl(kubeEditor, "", "delete", "task", "kube-editor-task", "-n", nsA); r.err != nil {
			t.Errorf("edit delete task: %s", r)
		}
	})

	t.Run("admin aggregates arl-admin", func(t *testing.T) {
		r := runKubectl(nsAdmin, strings.Replace(fmt.Sprintf(warmPoolYAML, 0), "python-pool", "admin-pool", 1), "create", "-n", nsA, "-f", "-")
		if r.err != nil {
			t.Fatalf("admin create warmpool: %s", r)
		}
		if r := runKubectl(nsAdmin, "", "delete", "warmpool", "admin-pool", "-n", nsA); r.err != nil {
			t.Errorf("admin delete warmpool: %s", r)
		}
	})

	t.Run("a user of namespace A cannot touch B", func(t *testing.T) {
		for _, cfg := range []string{viewer, editor, kubeEditor, nsAdmin} {
			if r := runKubectl(cfg, "", "get", "tasks", "-n", nsB); !forbidden(r) {
				t.Errorf("list tasks in B: want Forbidden, got %s", r)
			}
			if r := runKubectl(cfg, "", "get", "sandbox", "my-workspace", "-n", nsB); !forbidden(r) {
				t.Errorf("get sandbox in B: want Forbidden, got %s", r)
			}
			if r := runKubectl(cfg, task("intruder"), "create", "-n", nsB, "-f", "-"); !forbidden(r) {
				t.Errorf("create task in B: want Forbidden, got %s", r)
			}
			if r := runKubectl(cfg, "", "delete", "task", "hello-task", "-n", nsB); !forbidden(r) {
				t.Errorf("delete task in B: want Forbidden, got %s", r)
			}
			if r := runKubectl(cfg, "", "get", "tasks", "-A"); !forbidden(r) {
				t.Errorf("list tasks in all namespaces: want Forbidden, got %s", r)
			}
		}
		// B's objects are untouched.
		if out := kubectl(t, "get", "task", "hello-task", "-n", nsB, "-o", "name"); strings.TrimSpace(out) != "task.arl.infra.io/hello-task" {
			t.Errorf("B's task: %q", out)
		}
		if r := runKubectl(kubeconfig, "", "get", "task", "intruder", "-n", nsB); r.err == nil {
			t.Errorf("a task was created in B by a user of A")
		}
	})
}

// TestProcessesNeedEdit: sandboxes/processes shows the command lines of a
// sandbox's processes, which may carry secrets: view (arl-view) cannot read
// it, arl-edit and edit can.
func TestProcessesNeedEdit(t *testing.T) {
	ns := taskEnv(t, "processes", 1, "my-workspace")
	viewer := serviceAccountUser(t, ns, "viewer")
	editor := serviceAccountUser(t, ns, "arl-editor")
	kubeEditor := serviceAccountUser(t, ns, "kube-editor")
	kubectl(t, "create", "rolebinding", "viewer", "-n", ns, "--clusterrole=view", "--serviceaccount="+ns+":viewer")
	kubectl(t, "create", "rolebinding", "arl-editor", "-n", ns, "--clusterrole=arl-edit", "--serviceaccount="+ns+":arl-editor")
	kubectl(t, "create", "rolebinding", "kube-editor", "-n", ns, "--clusterrole=edit", "--serviceaccount="+ns+":kube-editor")
	bg := command("secret-holder", "sleep", "1000", "--password=hunter2")
	bg["background"] = true
	mustState(t, execTask(t, ns, newTask("background", "my-workspace", bg)), "Succeeded")

	path := arlBase + ns + "/sandboxes/my-workspace/processes"
	r := runKubectl(viewer, "", "get", "--raw", path)
	if !forbidden(r) || strings.Contains(r.stdout, "hunter2") {
		t.Errorf("view get sandboxes/processes: want 403, got %s", r)
	}
	if !strings.Contains(r.stderr, `cannot get resource "sandboxes/processes"`) {
		t.Errorf("the 403 does not name sandboxes/processes: %s", r.stderr)
	}
	// The viewer still reads the Sandbox itself.
	if r := runKubectl(viewer, "", "get", "sandbox", "my-workspace", "-n", ns, "-o", "name"); r.err != nil {
		t.Errorf("view get sandbox: %s", r)
	}
	for name, cfg := range map[string]string{"arl-edit": editor, "edit": kubeEditor} {
		r := runKubectl(cfg, "", "get", "--raw", path)
		if r.err != nil || !strings.Contains(r.stdout, `"kind":"SandboxProcessList"`) || !strings.Contains(r.stdout, "--password=hunter2") {
			t.Errorf("%s get sandboxes/processes: want 200 with the process list, got %s", name, r)
		}
	}
}

// Package e2e holds the suites that run against a real Kubernetes: the test
// cluster of hack/cluster (kube-apiserver v1.37.2 with the aggregation layer,
// kubelet, containerd) with arl-apiserver deployed from artifacts/. Every
// request goes the way a user's does: /usr/bin/kubectl (or the Python client,
// test/e2e/python) → kube-apiserver → APIService v1alpha1.arl.infra.io →
// the arl-apiserver pod.
//
// ARL_E2E_KUBECONFIG names the cluster admin's kubeconfig (hack/cluster/env.sh
// prints it). Without it the suites skip, saying so, unless
// ARL_E2E_REQUIRED=1, when they fail.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	arlGroup   = "arl.infra.io"
	arlVersion = "v1alpha1"
	// testImage is the manual's image; hack/cluster/images.sh builds it locally.
	testImage = "python:3.9-slim"
)

var (
	kubeconfig string
	kubectlBin = "/usr/bin/kubectl"
	cacheDir   string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "arl-e2e-kubectl-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cacheDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// requireCluster skips the test, saying why, when no cluster is configured;
// under ARL_E2E_REQUIRED=1 it fails instead. (The variables are read here,
// inside the test, so `go test` caching takes them into account.)
func requireCluster(t *testing.T) {
	t.Helper()
	kubeconfig = os.Getenv("ARL_E2E_KUBECONFIG")
	if k := os.Getenv("ARL_E2E_KUBECTL"); k != "" {
		kubectlBin = k
	}
	if kubeconfig == "" {
		if os.Getenv("ARL_E2E_REQUIRED") == "1" {
			t.Fatal("ARL_E2E_REQUIRED=1 but ARL_E2E_KUBECONFIG is not set: bring the test cluster up (make cluster-up; eval \"$(hack/cluster/env.sh)\")")
		}
		t.Skip("ARL_E2E_KUBECONFIG is not set: no test cluster (make cluster-up; eval \"$(hack/cluster/env.sh)\"; or run make test)")
	}
	if _, err := os.Stat(kubeconfig); err != nil {
		t.Fatalf("ARL_E2E_KUBECONFIG: %v", err)
	}
	if _, err := os.Stat(kubectlBin); err != nil {
		t.Fatalf("kubectl %s: %v", kubectlBin, err)
	}
}

// kubectlResult is one kubectl invocation's outcome.
type kubectlResult struct {
	args           []string
	stdout, stderr string
	err            error
}

func (r kubectlResult) String() string {
	return fmt.Sprintf("kubectl %s: err=%v\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.err, r.stdout, r.stderr)
}

// runKubectl runs kubectl as the given kubeconfig with stdin (may be empty).
func runKubectl(cfg, stdin string, args ...string) kubectlResult {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	full := append([]string{"--kubeconfig", cfg, "--cache-dir", cacheDir}, args...)
	cmd := exec.CommandContext(ctx, kubectlBin, full...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	return kubectlResult{args: args, stdout: out.String(), stderr: errb.String(), err: err}
}

// kubectl runs kubectl as the cluster admin and fails the test on error.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	r := runKubectl(kubeconfig, "", args...)
	if r.err != nil {
		t.Fatalf("%s", r)
	}
	return r.stdout
}

// kubectlIn is kubectl with stdin (e.g. `apply -f -`).
func kubectlIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	r := runKubectl(kubeconfig, stdin, args...)
	if r.err != nil {
		t.Fatalf("%s", r)
	}
	return r.stdout
}

func randSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := fmt.Sprintf("e2e-%s-%s", prefix, randSuffix())
	kubectl(t, "create", "namespace", ns)
	t.Cleanup(func() {
		r := runKubectl(kubeconfig, "", "delete", "namespace", ns, "--wait=false", "--ignore-not-found")
		if r.err != nil {
			t.Logf("cleanup: %s", r)
		}
	})
	// kube-controller-manager makes the default service account; pods need it.
	waitFor(t, 60*time.Second, "serviceaccount default in "+ns, func() (bool, string) {
		r := runKubectl(kubeconfig, "", "get", "serviceaccount", "default", "-n", ns)
		return r.err == nil, r.stderr
	})
	return ns
}

// waitFor polls cond every 300 ms until it is true, failing after timeout
// with the last message cond gave. (Timeouts bound a wait; no test asserts a duration.)
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last: %s", timeout, what, last)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// getJSON runs `kubectl get ... -o json` and decodes it.
func getJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out := kubectl(t, append([]string{"get"}, append(args, "-o", "json")...)...)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("decoding kubectl get %v: %v\n%s", args, err, out)
	}
	return m
}

// field walks m along path (map keys) and returns what is there, or nil.
func field(m any, path ...string) any {
	cur := m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func str(m any, path ...string) string {
	s, _ := field(m, path...).(string)
	return s
}

// userKubeconfig writes a kubeconfig for a bearer token against the same
// cluster (server and CA) as the admin's, and returns its path.
func userKubeconfig(t *testing.T, name, token string) string {
	t.Helper()
	server := strings.TrimSpace(kubectl(t, "config", "view", "--raw", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"))
	ca := strings.TrimSpace(kubectl(t, "config", "view", "--raw", "--minify", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}"))
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: arl-test
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: %s
  context:
    cluster: arl-test
    user: %s
current-context: %s
`, server, ca, name, token, name, name, name)
	p := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// serviceAccountUser creates a service account in ns and returns a
// kubeconfig authenticating as it (a real token from the TokenRequest API).
func serviceAccountUser(t *testing.T, ns, name string) string {
	t.Helper()
	kubectl(t, "create", "serviceaccount", name, "-n", ns)
	token := strings.TrimSpace(kubectl(t, "create", "token", name, "-n", ns, "--duration=1h"))
	if token == "" {
		t.Fatalf("empty token for %s/%s", ns, name)
	}
	return userKubeconfig(t, ns+"-"+name, token)
}

// arlServed reports whether arl.infra.io/v1alpha1 is served through the
// aggregation layer; the ARL suites fail (not skip) when it is not: the
// cluster is meant to have it (hack/cluster/deploy.sh).
func requireARL(t *testing.T) {
	t.Helper()
	requireCluster(t)
	r := runKubectl(kubeconfig, "", "get", "apiservice", arlVersion+"."+arlGroup,
		"-o", `jsonpath={.status.conditions[?(@.type=="Available")].status} {.status.conditions[?(@.type=="Available")].message}`)
	if r.err != nil || !strings.HasPrefix(r.stdout, "True") {
		t.Fatalf("APIService %s.%s is not Available (is arl-apiserver deployed? hack/cluster/deploy.sh): %s", arlVersion, arlGroup, r)
	}
}

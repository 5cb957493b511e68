package e2e

// The test cluster itself: what ARL relies on from it. Real pods from the
// manual's image run python, curl and ps; exec and logs work; pods reach each
// other's IPs (arl-apiserver dials sidecars), Services by DNS name, and
// kube-apiserver through the in-cluster config (the pool manager's client).

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestNodeReady(t *testing.T) {
	requireCluster(t)
	nodes := getJSON(t, "nodes")
	items, _ := nodes["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("want 1 node, got %d", len(items))
	}
	var ready string
	conds, _ := field(items[0], "status", "conditions").([]any)
	for _, c := range conds {
		if str(c, "type") == "Ready" {
			ready = str(c, "status")
		}
	}
	if ready != "True" {
		t.Fatalf("node %s Ready=%q", str(items[0], "metadata", "name"), ready)
	}
	if v := str(items[0], "status", "nodeInfo", "kubeletVersion"); v != "v1.37.2" {
		t.Errorf("kubelet version %q, want v1.37.2", v)
	}
	var internalIP string
	addrs, _ := field(items[0], "status", "addresses").([]any)
	for _, a := range addrs {
		if str(a, "type") == "InternalIP" {
			internalIP = str(a, "address")
		}
	}
	if internalIP == "" || strings.HasPrefix(internalIP, "127.") {
		t.Errorf("node InternalIP %q: exec and logs need a non-loopback node address", internalIP)
	}
	ver := kubectl(t, "version", "-o", "json")
	if !strings.Contains(ver, `"gitVersion": "v1.37.2"`) {
		t.Errorf("kube-apiserver is not v1.37.2:\n%s", ver)
	}
}

const podYAML = `apiVersion: v1
kind: Pod
metadata:
  name: %[1]s
  labels: {app: %[1]s}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: python:3.9-slim
    command: %[2]s
`

func runPod(t *testing.T, ns, name, command string) {
	t.Helper()
	kubectlIn(t, fmt.Sprintf(podYAML, name, command), "apply", "-n", ns, "-f", "-")
	kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "pod/"+name, "--timeout=120s")
}

func podIP(t *testing.T, ns, name string) string {
	t.Helper()
	ip := strings.TrimSpace(kubectl(t, "get", "pod", name, "-n", ns, "-o", "jsonpath={.status.podIP}"))
	if ip == "" {
		t.Fatalf("pod %s/%s has no IP", ns, name)
	}
	return ip
}

func TestPodRunsManualImage(t *testing.T) {
	requireCluster(t)
	ns := newNamespace(t, "pod")
	runPod(t, ns, "py", `["python", "-c", "import sys, time, flask; print('hello from', sys.version.split()[0], flush=True); time.sleep(3600)"]`)

	// logs
	waitFor(t, 30*time.Second, "the pod's log line", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "logs", "-n", ns, "py")
		return r.err == nil && strings.Contains(r.stdout, "hello from 3."), r.String()
	})
	// exec: the tools the manual's examples use
	for _, c := range [][]string{
		{"python", "-c", "print(6*7)"},
		{"curl", "--version"},
		{"ps", "-e"},
		{"bash", "-c", "echo $BASH_VERSION"},
		{"python3", "-c", "import flask; print('flask', flask.__name__)"},
	} {
		r := runKubectl(kubeconfig, "", append([]string{"exec", "-n", ns, "py", "-c", "main", "--"}, c...)...)
		if r.err != nil || strings.TrimSpace(r.stdout) == "" {
			t.Errorf("exec %v: %s", c, r)
		}
	}
	if out := kubectl(t, "exec", "-n", ns, "py", "--", "python", "-c", "print(6*7)"); strings.TrimSpace(out) != "42" {
		t.Errorf("exec python: %q, want 42", out)
	}
	// stdin through exec (kubectl exec -i), as `kubectl exec -it ... bash` uses it
	r := runKubectl(kubeconfig, "echo from-stdin\nexit 3\n", "exec", "-i", "-n", ns, "py", "--", "bash")
	if !strings.Contains(r.stdout, "from-stdin") || r.err == nil {
		t.Errorf("exec -i bash: want output and exit 3: %s", r)
	}
}

func TestPodNetwork(t *testing.T) {
	requireCluster(t)
	ns := newNamespace(t, "net")
	runPod(t, ns, "server", `["python", "-m", "http.server", "8080", "--directory", "/etc"]`)
	runPod(t, ns, "client", `["sleep", "3600"]`)
	ip := podIP(t, ns, "server")

	// pod → pod IP on the bridge (how arl-apiserver reaches sidecars)
	waitFor(t, 30*time.Second, "pod-to-pod HTTP", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "exec", "-n", ns, "client", "--", "curl", "-fsS", "--max-time", "5", "http://"+ip+":8080/hostname")
		return r.err == nil && strings.TrimSpace(r.stdout) == "server", r.String()
	})

	// pod → Service by DNS name → endpoint (ClusterIP and DNS: arl-svcproxy)
	kubectl(t, "expose", "pod", "server", "-n", ns, "--name", "web", "--port", "80", "--target-port", "8080")
	waitFor(t, 60*time.Second, "Service by name", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "exec", "-n", ns, "client", "--", "curl", "-fsS", "--max-time", "5", "http://web/hostname")
		return r.err == nil && strings.TrimSpace(r.stdout) == "server", r.String()
	})
	fqdn := "web." + ns + ".svc.cluster.local"
	r := runKubectl(kubeconfig, "", "exec", "-n", ns, "client", "--", "python", "-c",
		"import socket; print(socket.gethostbyname('"+fqdn+"'))")
	clusterIP := strings.TrimSpace(kubectl(t, "get", "service", "web", "-n", ns, "-o", "jsonpath={.spec.clusterIP}"))
	if r.err != nil || strings.TrimSpace(r.stdout) != clusterIP {
		t.Errorf("%s resolves to %q, want the ClusterIP %s: %s", fqdn, r.stdout, clusterIP, r)
	}
	// A name that does not exist does not resolve.
	r = runKubectl(kubeconfig, "", "exec", "-n", ns, "client", "--", "python", "-c",
		"import socket; socket.gethostbyname('nope."+ns+".svc.cluster.local')")
	if r.err == nil {
		t.Errorf("a missing Service name resolved: %s", r)
	}
}

// TestInClusterAPIAccess: a pod reaches kube-apiserver the way client-go's
// in-cluster config does (KUBERNETES_SERVICE_HOST:PORT, the service account
// token and CA), and is authorized as its service account.
func TestInClusterAPIAccess(t *testing.T) {
	requireCluster(t)
	ns := newNamespace(t, "incluster")
	runPod(t, ns, "client", `["sleep", "3600"]`)
	script := `curl -sS --max-time 10 --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt ` +
		`-H "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" ` +
		`https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}/version`
	out := kubectl(t, "exec", "-n", ns, "client", "--", "bash", "-c", script)
	if !strings.Contains(out, `"gitVersion": "v1.37.2"`) {
		t.Fatalf("in-cluster /version: %s", out)
	}
	// The same through the DNS name, and authorization as the pod's service account.
	script = `curl -sS --max-time 10 --cacert /var/run/secrets/kubernetes.io/serviceaccount/ca.crt ` +
		`-H "Authorization: Bearer $(cat /var/run/secrets/kubernetes.io/serviceaccount/token)" ` +
		`https://kubernetes.default.svc/api/v1/namespaces/` + ns + `/pods`
	out = kubectl(t, "exec", "-n", ns, "client", "--", "bash", "-c", script)
	if !strings.Contains(out, `"reason": "Forbidden"`) || !strings.Contains(out, "system:serviceaccount:"+ns+":default") {
		t.Fatalf("in-cluster list pods as the default service account: want Forbidden for it, got %s", out)
	}
}

// TestNamespaceDeletion: kube-controller-manager's namespace controller and
// garbage collector work (cleanup of every other suite relies on them).
func TestNamespaceDeletion(t *testing.T) {
	requireCluster(t)
	ns := fmt.Sprintf("e2e-nsdel-%s", randSuffix())
	kubectl(t, "create", "namespace", ns)
	kubectlIn(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  replicas: 2
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: `+testImage+`, command: [sleep, "3600"]}
`, "apply", "-n", ns, "-f", "-")
	waitFor(t, 120*time.Second, "deployment's pod Running", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "get", "pods", "-n", ns, "-l", "app=d", "-o", "jsonpath={.items[*].status.phase}")
		return r.err == nil && r.stdout == "Running Running", r.String()
	})
	kubectl(t, "delete", "namespace", ns, "--timeout=120s")
	r := runKubectl(kubeconfig, "", "get", "namespace", ns)
	if r.err == nil || !strings.Contains(r.stderr, "NotFound") {
		t.Fatalf("namespace %s still there: %s", ns, r)
	}
}

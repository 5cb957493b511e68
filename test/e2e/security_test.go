package e2e

// Untrusted code stays in its box (issue 17): pool pods are hardened by
// default and refuse templates that reach past the pod, sandboxing
// RuntimeClasses pass through, each pool has a NetworkPolicy, and code in
// a sandbox reads no credential: no service account token, not the
// sidecar's TLS key (directly, through /proc or through the shared volume).

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// securityContext holds the fields the tests look at.
type securityContext struct {
	RunAsUser                *int64 `json:"runAsUser"`
	RunAsGroup               *int64 `json:"runAsGroup"`
	RunAsNonRoot             *bool  `json:"runAsNonRoot"`
	AllowPrivilegeEscalation *bool  `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   *bool  `json:"readOnlyRootFilesystem"`
	Privileged               *bool  `json:"privileged"`
	Capabilities             *struct {
		Add  []string `json:"add"`
		Drop []string `json:"drop"`
	} `json:"capabilities"`
	SeccompProfile *struct {
		Type string `json:"type"`
	} `json:"seccompProfile"`
}

type podSecurity struct {
	Spec struct {
		RuntimeClassName             string `json:"runtimeClassName"`
		AutomountServiceAccountToken *bool  `json:"automountServiceAccountToken"`
		SecurityContext              struct {
			SeccompProfile *struct {
				Type string `json:"type"`
			} `json:"seccompProfile"`
		} `json:"securityContext"`
		InitContainers []struct {
			Name            string           `json:"name"`
			SecurityContext *securityContext `json:"securityContext"`
		} `json:"initContainers"`
		Containers []struct {
			Name            string           `json:"name"`
			SecurityContext *securityContext `json:"securityContext"`
		} `json:"containers"`
	} `json:"spec"`
}

func isTrue(b *bool) bool  { return b != nil && *b }
func isFalse(b *bool) bool { return b != nil && !*b }

// checkARLContainer: arl-install and the sidecar run as 65532, non-root,
// read-only, without capabilities or privilege gains, RuntimeDefault seccomp.
func checkARLContainer(t *testing.T, pod, name string, sc *securityContext) {
	t.Helper()
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 65532 || sc.RunAsGroup == nil || *sc.RunAsGroup != 65532 ||
		!isTrue(sc.RunAsNonRoot) || !isFalse(sc.AllowPrivilegeEscalation) || !isTrue(sc.ReadOnlyRootFilesystem) ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || len(sc.Capabilities.Add) != 0 ||
		sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault" {
		data, _ := json.Marshal(sc)
		t.Errorf("pod %s: container %s security context %s", pod, name, data)
	}
}

// statusField reads one field of a /proc/<pid>/status text.
func statusField(status, name string) string {
	m := regexp.MustCompile(`(?m)^` + name + `:\s*(.*)$`).FindStringSubmatch(status)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

// TestPoolPodsAreHardened: the manual's pool, whose template says nothing
// about security, gets pods with RuntimeDefault seccomp, no privilege
// escalation and fewer capabilities for the executor (still root, still
// able to do what apt and pip do), and locked-down ARL containers; the
// kernel says the same of the running processes.
func TestPoolPodsAreHardened(t *testing.T) {
	ns := taskEnv(t, "hardened", 1, "my-workspace")
	sb := getSandbox(t, ns, "my-workspace")
	var pod podSecurity
	if err := getInto(&pod, "pod", sb.Status.PodName, "-n", ns); err != nil {
		t.Fatal(err)
	}
	if s := pod.Spec.SecurityContext.SeccompProfile; s == nil || s.Type != "RuntimeDefault" {
		t.Errorf("pod seccomp profile %+v, want RuntimeDefault", s)
	}
	if !isFalse(pod.Spec.AutomountServiceAccountToken) {
		t.Errorf("automountServiceAccountToken %v, want false", pod.Spec.AutomountServiceAccountToken)
	}
	for _, c := range pod.Spec.InitContainers {
		if c.Name == "arl-install" {
			checkARLContainer(t, sb.Status.PodName, c.Name, c.SecurityContext)
		}
	}
	for _, c := range pod.Spec.Containers {
		switch c.Name {
		case "sidecar":
			checkARLContainer(t, sb.Status.PodName, c.Name, c.SecurityContext)
		case "executor":
			sc := c.SecurityContext
			if sc == nil || !isFalse(sc.AllowPrivilegeEscalation) || sc.Capabilities == nil ||
				!slices.Equal(sc.Capabilities.Drop, []string{"NET_RAW", "MKNOD", "SETFCAP", "AUDIT_WRITE"}) || sc.RunAsUser != nil {
				data, _ := json.Marshal(sc)
				t.Errorf("executor security context %s", data)
			}
		}
	}

	// The executor as the kernel sees it, from a Task: root, no new
	// privileges, seccomp filtering; what package managers need works,
	// raw sockets and device nodes do not.
	task := execTask(t, ns, newTask("executor-privileges", "my-workspace", filePatch("probe", "/workspace/privs.py", `
import os, socket, stat
status = open('/proc/self/status').read()
print(status, end='')
open('/workspace/owned', 'w').close()
os.chown('/workspace/owned', 65534, 65534)          # CHOWN
os.chmod('/workspace/owned', 0o600)                 # FOWNER
open('/workspace/owned').close()                    # DAC_OVERRIDE
pid = os.fork()
if pid == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534)   # SETGID, SETUID (apt's _apt)
    os._exit(0 if os.getuid() == 65534 else 1)
print('setuid exit', os.waitpid(pid, 0)[1])
for what, f in [('raw socket', lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
                ('mknod', lambda: os.mknod('/workspace/null', stat.S_IFCHR | 0o600, os.makedev(1, 3)))]:
    try:
        f()
        print(what, 'allowed')
    except PermissionError:
        print(what, 'refused')
`), command("run", "python", "/workspace/privs.py")))
	mustState(t, task, "Succeeded")
	out := task.Status.Stdout
	for field, want := range map[string]string{"Uid": "0\t0\t0\t0", "NoNewPrivs": "1", "Seccomp": "2"} {
		if got := statusField(out, field); got != want {
			t.Errorf("executor %s: %q, want %q", field, got, want)
		}
	}
	var capEff uint64
	if _, err := fmt.Sscanf(statusField(out, "CapEff"), "%x", &capEff); err != nil {
		t.Fatalf("CapEff: %v\n%s", err, out)
	}
	// Bits from linux/capability.h.
	for name, bit := range map[string]uint{"CHOWN": 0, "DAC_OVERRIDE": 1, "FOWNER": 3, "FSETID": 4, "KILL": 5, "SETGID": 6, "SETUID": 7, "NET_BIND_SERVICE": 10} {
		if capEff&(1<<bit) == 0 {
			t.Errorf("executor lacks CAP_%s (CapEff %x)", name, capEff)
		}
	}
	for name, bit := range map[string]uint{"NET_RAW": 13, "SYS_ADMIN": 21, "SYS_PTRACE": 19, "MKNOD": 27, "AUDIT_WRITE": 29, "SETFCAP": 31} {
		if capEff&(1<<bit) != 0 {
			t.Errorf("executor has CAP_%s (CapEff %x)", name, capEff)
		}
	}
	for _, want := range []string{"setuid exit 0\n", "raw socket refused\n", "mknod refused\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("executor: want %q in\n%s", want, out)
		}
	}

	// The sidecar as the kernel sees it: an ephemeral container in its
	// process namespace reads its /proc/1/status.
	kubectl(t, "debug", "-n", ns, sb.Status.PodName, "--image="+testImage, "--image-pull-policy=Never", "--target=sidecar",
		"-c", "inspect", "--attach=false", "--", "cat", "/proc/1/status")
	var status string
	waitFor(t, time.Minute, "the inspecting container's output", func() (bool, string) {
		r := runKubectl(kubeconfig, "", "logs", "-n", ns, sb.Status.PodName, "-c", "inspect")
		status = r.stdout
		return r.err == nil && strings.Contains(status, "Seccomp:"), r.String()
	})
	for field, want := range map[string]string{"Uid": "65532\t65532\t65532\t65532", "Gid": "65532\t65532\t65532\t65532",
		"CapEff": "0000000000000000", "CapBnd": "0000000000000000", "NoNewPrivs": "1", "Seccomp": "2"} {
		if got := statusField(status, field); got != want {
			t.Errorf("sidecar %s: %q, want %q", field, got, want)
		}
	}
}

// poolWith is the manual's pool with a different spec tail: extra lines
// under spec.template.spec (indented 6) and under spec (indented 2).
func poolWith(name, templateSpec, spec string) string {
	y := strings.Replace(fmt.Sprintf(warmPoolYAML, 1), "name: python-pool", "name: "+name, 1)
	y = strings.Replace(y, "    spec:\n      containers:", "    spec:\n"+templateSpec+"      containers:", 1)
	return y + spec
}

// TestPrivilegedTemplatesAreRefused: a template that reaches past its pod
// is a 422 naming the field, on create and on update; so is one that
// mounts the sidecar's Secret.
func TestPrivilegedTemplatesAreRefused(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "privileged")
	for _, tc := range []struct {
		name, templateSpec, field string
	}{
		{"host-network", "      hostNetwork: true\n", "spec.template.spec.hostNetwork"},
		{"host-pid", "      hostPID: true\n", "spec.template.spec.hostPID"},
		{"shared-pids", "      shareProcessNamespace: true\n", "spec.template.spec.shareProcessNamespace"},
		{"host-path", "", "spec.template.spec.volumes[0].hostPath"},
		{"sidecar-key", "", "spec.template.spec.volumes[0].secret.secretName"},
	} {
		y := poolWith(tc.name, tc.templateSpec, "")
		switch tc.name {
		case "host-path":
			y = strings.Replace(y, "emptyDir: {}", "hostPath:\n          path: /", 1)
		case "sidecar-key":
			y = strings.Replace(y, "emptyDir: {}", "secret:\n          secretName: arl-sidecar-tls", 1)
		}
		r := runKubectl(kubeconfig, y, "create", "-n", ns, "-f", "-")
		if r.err == nil || !strings.Contains(r.stderr, "is invalid") || !strings.Contains(r.stderr, tc.field+": Forbidden") {
			t.Errorf("%s: want a 422 naming %s: %s", tc.name, tc.field, r)
		}
	}
	// The manual's pool was valid; a patch that makes it privileged is not.
	kubectlIn(t, fmt.Sprintf(warmPoolYAML, 0), "create", "-n", ns, "-f", "-")
	for _, patch := range []struct{ json, field string }{
		{`[{"op":"add","path":"/spec/template/spec/containers/0/securityContext","value":{"privileged":true}}]`,
			"spec.template.spec.containers[0].securityContext.privileged"},
		{`[{"op":"add","path":"/spec/template/spec/containers/0/securityContext","value":{"capabilities":{"add":["SYS_ADMIN"]}}}]`,
			"spec.template.spec.containers[0].securityContext.capabilities.add[0]"},
	} {
		r := runKubectl(kubeconfig, "", "patch", "warmpool", poolName, "-n", ns, "--type=json", "-p", patch.json)
		if r.err == nil || !strings.Contains(r.stderr, patch.field+": Forbidden") {
			t.Errorf("patch to %s: want a 422 naming it: %s", patch.field, r)
		}
	}
	if n := len(poolPods(t, ns, poolName)); n != 0 {
		t.Errorf("%d pods of a pool with 0 replicas", n)
	}
}

// TestRuntimeClassPassesThrough: a template's runtimeClassName reaches the
// pods. The test cluster has only runc, so the RuntimeClass's handler is
// runc; a gVisor or Kata RuntimeClass is the same object with another
// handler (docs/security.md).
func TestRuntimeClassPassesThrough(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "runtimeclass")
	rc := "arl-e2e-" + randSuffix()
	kubectlIn(t, "apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: "+rc+"\nhandler: runc\n", "create", "-f", "-")
	t.Cleanup(func() { runKubectl(kubeconfig, "", "delete", "runtimeclass", rc, "--ignore-not-found") })
	kubectlIn(t, poolWith(poolName, "      runtimeClassName: "+rc+"\n", ""), "create", "-n", ns, "-f", "-")
	waitPool(t, ns, poolName, 1, 0)
	for name := range poolPods(t, ns, poolName) {
		if got := kubectl(t, "get", "pod", name, "-n", ns, "-o", "jsonpath={.spec.runtimeClassName}"); got != rc {
			t.Errorf("pod %s: runtimeClassName %q, want %q", name, got, rc)
		}
	}
	readySandbox(t, ns, "my-workspace")
	task := execTask(t, ns, newTask("in-runtime-class", "my-workspace", command("hello", "python", "-c", "print('hello')")))
	if task.Status.State != "Succeeded" || task.Status.Stdout != "hello\n" {
		t.Errorf("%s", task)
	}
}

// networkPolicy holds the fields of a NetworkPolicy the tests check.
type networkPolicy struct {
	Metadata struct {
		Name              string            `json:"name"`
		CreationTimestamp string            `json:"creationTimestamp"`
		Labels            map[string]string `json:"labels"`
		Annotations       map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec struct {
		PodSelector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"podSelector"`
		PolicyTypes []string `json:"policyTypes"`
		Ingress     []struct {
			From []struct {
				NamespaceSelector *struct {
					MatchLabels map[string]string `json:"matchLabels"`
				} `json:"namespaceSelector"`
				PodSelector *struct {
					MatchLabels map[string]string `json:"matchLabels"`
				} `json:"podSelector"`
			} `json:"from"`
			Ports []struct {
				Protocol string `json:"protocol"`
				Port     int    `json:"port"`
			} `json:"ports"`
		} `json:"ingress"`
		Egress []struct {
			To []struct {
				IPBlock *struct {
					CIDR   string   `json:"cidr"`
					Except []string `json:"except"`
				} `json:"ipBlock"`
			} `json:"to"`
			Ports []struct {
				Protocol string `json:"protocol"`
				Port     int    `json:"port"`
			} `json:"ports"`
		} `json:"egress"`
	} `json:"spec"`
}

// egressSummary is a NetworkPolicy's egress in short: "dns" for the DNS
// rule, "cidr[except,...]:ports" for each peer.
func (np networkPolicy) egressSummary() []string {
	var out []string
	for _, rule := range np.Spec.Egress {
		var ports []string
		for _, p := range rule.Ports {
			ports = append(ports, fmt.Sprintf("%s/%d", p.Protocol, p.Port))
		}
		if len(rule.To) == 0 {
			out = append(out, "any:"+strings.Join(ports, ","))
		}
		for _, peer := range rule.To {
			if peer.IPBlock == nil {
				out = append(out, "non-ipBlock peer")
				continue
			}
			out = append(out, fmt.Sprintf("%s%v:%s", peer.IPBlock.CIDR, peer.IPBlock.Except, strings.Join(ports, ",")))
		}
	}
	return out
}

func getNetworkPolicy(t *testing.T, ns, name string) (networkPolicy, bool) {
	t.Helper()
	var np networkPolicy
	r := runKubectl(kubeconfig, "", "get", "networkpolicy", name, "-n", ns, "-o", "json")
	if r.err != nil {
		if strings.Contains(r.stderr, "NotFound") {
			return np, false
		}
		t.Fatal(r)
	}
	decode(t, r.stdout, &np)
	return np, true
}

// clusterIPOf is a Service's ClusterIP.
func clusterIPOf(t *testing.T, ns, service string) string {
	t.Helper()
	return strings.TrimSpace(kubectl(t, "get", "service", service, "-n", ns, "-o", "jsonpath={.spec.clusterIP}"))
}

// TestPoolNetworkPolicy: each pool has NetworkPolicy arl-pool-<pool>,
// written before its pods, updated with it, deleted with it: only
// arl-apiserver reaches the sidecar port; egress is the mode's and the
// allow list's (a DNS name at the addresses it resolved to). Whether it is
// enforced is the CNI's business: where it is, the connections are tried
// (TestPoolNetworkPolicyIsEnforced).
func TestPoolNetworkPolicy(t *testing.T) {
	requireARL(t)
	ns := newNamespace(t, "netpol")
	createPool(t, ns, 1)
	var np networkPolicy
	waitFor(t, time.Minute, "the pool's NetworkPolicy", func() (bool, string) {
		var ok bool
		np, ok = getNetworkPolicy(t, ns, "arl-pool-"+poolName)
		return ok, "not there yet"
	})
	// Written before the pool's pods: none ran without it.
	for _, pod := range listPods(t, ns, labelPool+"="+poolName) {
		if pod.Metadata.CreationTimestamp < np.Metadata.CreationTimestamp {
			t.Errorf("pod %s (%s) is older than the pool's NetworkPolicy (%s)", pod.Metadata.Name, pod.Metadata.CreationTimestamp, np.Metadata.CreationTimestamp)
		}
	}
	if np.Metadata.Labels["app.kubernetes.io/managed-by"] != "arl" || np.Metadata.Labels[labelPool] != poolName ||
		np.Spec.PodSelector.MatchLabels[labelPool] != poolName || len(np.Spec.PodSelector.MatchLabels) != 1 ||
		!slices.Equal(np.Spec.PolicyTypes, []string{"Ingress", "Egress"}) {
		t.Errorf("policy metadata %+v selector %+v types %v", np.Metadata, np.Spec.PodSelector, np.Spec.PolicyTypes)
	}
	ingress, _ := json.Marshal(np.Spec.Ingress)
	if want := `[{"from":[{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"arl-system"}},"podSelector":{"matchLabels":{"app.kubernetes.io/name":"arl-apiserver"}}}],"ports":[{"protocol":"TCP","port":50051}]}]`; string(ingress) != want {
		t.Errorf("ingress %s\nwant     %s", ingress, want)
	}
	summary := np.egressSummary()
	if len(summary) != 3 || summary[0] != "any:UDP/53,TCP/53" || !strings.HasPrefix(summary[1], "0.0.0.0/0[") || !strings.HasPrefix(summary[2], "::/0[") {
		t.Errorf("Internet egress %v", summary)
	}
	internet := np.Spec.Egress[1].To[0].IPBlock
	// kube-apiserver's endpoints (the node's address here), the Services
	// and pods of this cluster, and the metadata endpoint are excepted.
	apiServer, _ := kubeAPIServerEndpoints(t)
	sb := readySandbox(t, ns, "my-workspace")
	for _, addr := range append(apiServer, clusterIPOf(t, "default", "kubernetes"), sb.Status.PodIP, "169.254.169.254") {
		a := netip.MustParseAddr(addr)
		if !slices.ContainsFunc(internet.Except, func(e string) bool { return netip.MustParsePrefix(e).Contains(a) }) {
			t.Errorf("Internet egress does not except %s: %v", addr, internet.Except)
		}
	}
	if !slices.ContainsFunc(listEvents(t, ns, "WarmPool", "NetworkPolicy"), func(e event) bool {
		return strings.Contains(e.Message, "Created NetworkPolicy arl-pool-"+poolName+" (egress Internet)")
	}) {
		t.Errorf("no NetworkPolicy Event on the pool")
	}

	// AllowList: a CIDR on a port, a DNS name (arl-etcd's Service, which
	// arl-apiserver resolves in its own pod) at its address.
	etcdIP := clusterIPOf(t, arlSystem, "arl-etcd")
	kubectl(t, "patch", "warmpool", poolName, "-n", ns, "--type=merge", "-p",
		`{"spec":{"network":{"egress":{"mode":"AllowList","allow":[{"cidr":"203.0.113.0/24","ports":[{"port":443}]},{"dnsName":"arl-etcd.arl-system.svc.cluster.local","ports":[{"port":2379}]}]}}}}`)
	want := []string{"any:UDP/53,TCP/53", "203.0.113.0/24[]:TCP/443", etcdIP + "/32[]:TCP/2379"}
	waitFor(t, time.Minute, "the policy updated to the allow list", func() (bool, string) {
		np, _ = getNetworkPolicy(t, ns, "arl-pool-"+poolName)
		return slices.Equal(np.egressSummary(), want), fmt.Sprintf("%v", np.egressSummary())
	})
	if got := np.Metadata.Annotations["arl.infra.io/resolved-dns-names"]; got != `{"arl-etcd.arl-system.svc.cluster.local":["`+etcdIP+`"]}` {
		t.Errorf("resolved-dns-names annotation %q", got)
	}
	// The pods stay: a network change does not roll them.
	if p := getPod(t, ns, sb.Status.PodName); p.Metadata.DeletionTimestamp != "" {
		t.Errorf("the bound pod is being deleted after a network change")
	}
	// The bound Sandbox still serves: arl-apiserver reaches the sidecar.
	if task := execTask(t, ns, newTask("after-allowlist", "my-workspace", command("ok", "true"))); task.Status.State != "Succeeded" {
		t.Errorf("%s", task)
	}

	kubectl(t, "patch", "warmpool", poolName, "-n", ns, "--type=merge", "-p", `{"spec":{"network":{"egress":{"mode":"DenyAll","allow":null}}}}`)
	waitFor(t, time.Minute, "the policy updated to DenyAll", func() (bool, string) {
		np, _ = getNetworkPolicy(t, ns, "arl-pool-"+poolName)
		return len(np.Spec.Egress) == 0 && slices.Equal(np.Spec.PolicyTypes, []string{"Ingress", "Egress"}), fmt.Sprintf("%+v", np.Spec)
	})

	// Someone deletes ARL's policy: the pool manager writes it again.
	kubectl(t, "delete", "networkpolicy", "arl-pool-"+poolName, "-n", ns)
	waitFor(t, time.Minute, "the deleted policy written again", func() (bool, string) {
		_, ok := getNetworkPolicy(t, ns, "arl-pool-"+poolName)
		return ok, "missing"
	})

	kubectl(t, "delete", "warmpool", poolName, "-n", ns)
	waitFor(t, waitPodsTimeout, "the policy deleted with the pool's last pod", func() (bool, string) {
		_, ok := getNetworkPolicy(t, ns, "arl-pool-"+poolName)
		pods, err := tryListPods(ns, labelPool+"="+poolName)
		if err != nil {
			return false, err.Error()
		}
		if ok && len(pods) == 0 {
			// Fine for a moment: the manager deletes it on its next sync.
			return false, "no pods left, policy still there"
		}
		if !ok && len(pods) > 0 {
			t.Errorf("the policy went before the pool's last pod (%d left)", len(pods))
			return true, ""
		}
		return !ok, fmt.Sprintf("policy present %v, %d pods", ok, len(pods))
	})
}

// kubeAPIServerEndpoints are kube-apiserver's addresses and port, from the
// EndpointSlices of Service default/kubernetes.
func kubeAPIServerEndpoints(t *testing.T) ([]string, int) {
	t.Helper()
	var list struct {
		Items []struct {
			Endpoints []struct {
				Addresses []string `json:"addresses"`
			} `json:"endpoints"`
			Ports []struct {
				Port int `json:"port"`
			} `json:"ports"`
		} `json:"items"`
	}
	decode(t, kubectl(t, "get", "endpointslices", "-n", "default", "-l", "kubernetes.io/service-name=kubernetes", "-o", "json"), &list)
	var addrs []string
	port := 0
	for _, slice := range list.Items {
		for _, ep := range slice.Endpoints {
			addrs = append(addrs, ep.Addresses...)
		}
		if len(slice.Ports) > 0 {
			port = slice.Ports[0].Port
		}
	}
	if len(addrs) == 0 || port == 0 {
		t.Fatalf("no kube-apiserver endpoints: %+v", list)
	}
	return addrs, port
}

// cniEnforcesNetworkPolicy says whether the cluster's network plugin
// enforces NetworkPolicies, independently of ARL: a pod behind a deny-all
// ingress policy is tried from another pod.
func cniEnforcesNetworkPolicy(t *testing.T) bool {
	t.Helper()
	ns := newNamespace(t, "cni-probe")
	for _, name := range []string{"target", "client"} {
		kubectl(t, "run", name, "-n", ns, "--image="+testImage, "--image-pull-policy=Never", "--labels=app="+name,
			"--restart=Never", "--", "python", "-m", "http.server", "8080")
	}
	kubectl(t, "wait", "-n", ns, "--for=condition=Ready", "pod/target", "pod/client", "--timeout=120s")
	ip := strings.TrimSpace(kubectl(t, "get", "pod", "target", "-n", ns, "-o", "jsonpath={.status.podIP}"))
	connect := func() kubectlResult {
		return runKubectl(kubeconfig, "", "exec", "-n", ns, "client", "--", "python", "-c",
			fmt.Sprintf("import socket; socket.create_connection(('%s', 8080), timeout=3).close()", ip))
	}
	// Without a policy the target answers (once its server listens) ...
	waitFor(t, time.Minute, "the target pod answering without a policy", func() (bool, string) {
		r := connect()
		return r.err == nil, r.String()
	})
	kubectlIn(t, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny-target\nspec:\n  podSelector:\n    matchLabels:\n      app: target\n  policyTypes: [Ingress]\n",
		"create", "-n", ns, "-f", "-")
	// ... and behind one it does not, where policies are enforced. They
	// take effect asynchronously: try for a while before saying no.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if connect().err != nil {
			return true
		}
		time.Sleep(2 * time.Second)
	}
	return false
}

// TestPoolNetworkPolicyIsEnforced tries the connections the policies
// forbid, where the cluster's network plugin enforces NetworkPolicies: a
// sandbox cannot reach another sandbox, kube-apiserver or the metadata
// endpoint, and a DenyAll sandbox not even DNS. The test cluster's bridge
// plugin enforces none: there the test says so and stops.
func TestPoolNetworkPolicyIsEnforced(t *testing.T) {
	requireARL(t)
	if !cniEnforcesNetworkPolicy(t) {
		t.Skip("the cluster's network plugin does not enforce NetworkPolicies (a pod behind a deny-all policy answered): " +
			"TestPoolNetworkPolicy checked the policies' content; the connections are not tried")
	}
	ns := taskEnv(t, "enforced", 1, "first", "second")
	second := getSandbox(t, ns, "second")
	apiServer, apiPort := kubeAPIServerEndpoints(t)
	targets := [][2]string{{second.Status.PodIP, "50051"}, {second.Status.PodIP, "50052"}, {"169.254.169.254", "80"},
		{clusterIPOf(t, "default", "kubernetes"), "443"}}
	for _, a := range apiServer {
		targets = append(targets, [2]string{a, fmt.Sprint(apiPort)})
	}
	var script strings.Builder
	script.WriteString("import socket\n")
	for _, target := range targets {
		fmt.Fprintf(&script, "try:\n    socket.create_connection(('%s', %s), timeout=3).close(); print('reached %s:%s')\nexcept OSError:\n    pass\n",
			target[0], target[1], target[0], target[1])
	}
	task := execTask(t, ns, newTask("reach-out", "first", filePatch("probe", "/workspace/reach.py", script.String()),
		command("run", "python", "/workspace/reach.py")))
	if task.Status.State != "Succeeded" || task.Status.Stdout != "" {
		t.Errorf("a sandbox reached what its policy forbids: %s", task)
	}
	kubectl(t, "patch", "warmpool", poolName, "-n", ns, "--type=merge", "-p", `{"spec":{"network":{"egress":{"mode":"DenyAll"}}}}`)
	waitFor(t, time.Minute, "DenyAll in the policy", func() (bool, string) {
		np, _ := getNetworkPolicy(t, ns, "arl-pool-"+poolName)
		return len(np.Spec.Egress) == 0, fmt.Sprintf("%v", np.egressSummary())
	})
	waitFor(t, time.Minute, "DNS refused to a DenyAll sandbox", func() (bool, string) {
		task := execTask(t, ns, newTask("dns-"+randSuffix(), "first", command("resolve", "python", "-c",
			"import socket\ntry:\n    socket.getaddrinfo('kubernetes.default.svc.cluster.local', 443); print('resolved')\nexcept OSError:\n    print('refused')")))
		return task.Status.Stdout == "refused\n", task.String()
	})
}

// credentialsProbe runs in the executor: every way to a credential must
// fail, and its controls (what the executor may do) must work, so that a
// broken probe fails too.
const credentialsProbe = `
import os, sys
leaks, notes = [], []
needle = ('PRIVATE' + ' KEY').encode()  # not spelled out: this file is in /workspace
def must_fail(what, fn):
    try:
        got = fn()
    except OSError as e:
        notes.append('refused %s: %s' % (what, e.strerror))
        return
    leaks.append('LEAK %s: %r' % (what, got))
def read(path):
    with open(path, 'rb') as f:
        return f.read(40)

must_fail('service account token', lambda: read('/var/run/secrets/kubernetes.io/serviceaccount/token'))
must_fail('service account directory', lambda: os.listdir('/var/run/secrets/kubernetes.io/serviceaccount'))
must_fail("sidecar's TLS key", lambda: read('/var/run/arl/tls/tls.key'))
must_fail("sidecar's TLS key through the shared volume", lambda: read('/.arl/../var/run/arl/tls/tls.key'))

# The sidecar's processes are not in this PID namespace: no /proc/<pid>/root leads to its files.
visible = []
for pid in os.listdir('/proc'):
    if not pid.isdigit():
        continue
    try:
        cmdline = open('/proc/%s/cmdline' % pid, 'rb').read().replace(b'\0', b' ')
    except OSError:
        continue
    visible.append(cmdline.decode(errors='replace'))
    if b'arl-sidecar serve' in cmdline:
        leaks.append('LEAK the sidecar is visible as pid %s' % pid)
    must_fail('/proc/%s/root/var/run/arl/tls/tls.key' % pid, lambda: read('/proc/%s/root/var/run/arl/tls/tls.key' % pid))
for pid in range(1, 4097):
    if os.path.exists('/proc/%d/root/var/run/arl/tls/tls.key' % pid):
        leaks.append('LEAK /proc/%d/root/var/run/arl/tls/tls.key exists' % pid)

# The shared volume holds the agent and its socket, nothing of the sidecar.
shared = sorted(os.path.join(d, f) for d, _, files in os.walk('/.arl') for f in files)
if [f for f in shared if f not in ('/.arl/bin/arl-sidecar', '/.arl/run/agent.sock')]:
    leaks.append('LEAK unexpected files in the shared volume: %s' % shared)

# Nothing mounted into this container holds a private key or a token.
mounts = [line.split()[4] for line in open('/proc/self/mountinfo')]
for m in mounts:
    if 'serviceaccount' in m or '/arl/tls' in m:
        leaks.append('LEAK mount %s' % m)
    if m == '/' or m.startswith(('/proc', '/sys', '/dev')):
        continue
    paths = [m] if os.path.isfile(m) else [os.path.join(d, f) for d, _, files in os.walk(m) for f in files]
    for p in paths:
        try:
            if os.path.getsize(p) < (1 << 20) and needle in open(p, 'rb').read():
                leaks.append('LEAK a private key in %s' % p)
        except OSError:
            pass
for k, v in os.environ.items():
    if needle.decode() in v or 'TOKEN' in k.upper():
        leaks.append('LEAK environment variable %s' % k)

# Controls.
if '/.arl/bin/arl-sidecar' not in shared or not os.access('/.arl/bin/arl-sidecar', os.X_OK):
    leaks.append('PROBE BROKEN: the agent binary is not where the probe looks')
if not any('arl-sidecar agent' in c for c in visible):
    leaks.append('PROBE BROKEN: the agent is not among the visible processes %s' % visible)
if '/workspace' not in mounts or '/.arl' not in mounts:
    leaks.append('PROBE BROKEN: mounts %s' % mounts)

print('\n'.join(notes))
print('\n'.join(leaks))
sys.exit(1 if leaks else 0)
`

// TestSandboxCannotReadCredentials: code in a real sandbox pod tries to
// read the pod's service account token, the sidecar's TLS key at its path,
// through /proc/<pid>/root and through the volume it shares with the
// sidecar, and searches what is mounted into it for keys: all fail.
func TestSandboxCannotReadCredentials(t *testing.T) {
	ns := taskEnv(t, "credentials", 1, "my-workspace")
	task := execTask(t, ns, newTask("credentials", "my-workspace", filePatch("probe", "/workspace/credentials.py", credentialsProbe),
		command("run", "python", "/workspace/credentials.py")))
	if task.Status.State != "Succeeded" || strings.Contains(task.Status.Stdout, "LEAK") || strings.Contains(task.Status.Stdout, "PROBE BROKEN") {
		t.Fatalf("%s", task)
	}
	for _, want := range []string{"refused service account token: No such file or directory", "refused sidecar's TLS key: No such file or directory"} {
		if !strings.Contains(task.Status.Stdout, want) {
			t.Errorf("want %q in the probe's output:\n%s", want, task.Status.Stdout)
		}
	}
	t.Logf("probe:\n%s", task.Status.Stdout)
}

// TestServerPermissionsSuffice: arl-apiserver runs with the ClusterRole
// and Roles of artifacts/deploy/04-rbac.yaml, which grant only what it
// uses; after a pool's whole life (NetworkPolicy, pods, bind, Task, Events,
// delete) and everything the suites before this one did, its log holds no
// request kube-apiserver refused.
func TestServerPermissionsSuffice(t *testing.T) {
	ns := taskEnv(t, "permissions", 1, "my-workspace")
	execTask(t, ns, newTask("hello", "my-workspace", command("hello", "echo", "hello")))
	kubectl(t, "delete", "warmpool", poolName, "-n", ns)
	waitFor(t, waitPodsTimeout, "the pool's pods and policy deleted", func() (bool, string) {
		pods, err := tryListPods(ns, labelPool+"="+poolName)
		_, policy := getNetworkPolicy(t, ns, "arl-pool-"+poolName)
		return err == nil && len(pods) == 0 && !policy, fmt.Sprintf("%d pods, policy %v, %v", len(pods), policy, err)
	})
	// RBAC's refusal names the user: `User "system:serviceaccount:arl-system:arl-apiserver" cannot ...`
	// (quoted as \" inside a structured log's err="..."). Other 403s, such as
	// NamespaceLifecycle's for a namespace being deleted, are not about RBAC.
	for _, pod := range arlServerPodNames(t) {
		log := kubectl(t, "logs", "-n", arlSystem, pod)
		if !strings.Contains(log, "Leading the pool manager") && len(arlServerPodNames(t)) == 1 {
			t.Errorf("arl-apiserver %s: its log does not show it leading; is this its log?\n%s", pod, log)
		}
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, `User \"system:serviceaccount:arl-system:arl-apiserver\" cannot`) ||
				strings.Contains(line, `User "system:serviceaccount:arl-system:arl-apiserver" cannot`) {
				t.Errorf("arl-apiserver %s was refused: %s", pod, line)
			}
		}
	}
}

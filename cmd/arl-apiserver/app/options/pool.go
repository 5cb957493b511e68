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
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/arl-infra/arl/pkg/apiserver"
	"github.com/arl-infra/arl/pkg/eventvolume"
	"github.com/arl-infra/arl/pkg/executor"
	"github.com/arl-infra/arl/pkg/pool/local"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// PoolOptions configure the pods WarmPools keep.
type PoolOptions struct {
	// SidecarBinary is the arl-sidecar the local runtime runs.
	SidecarBinary string
	// SidecarImage is the arl-sidecar image of Kubernetes pool pods.
	SidecarImage string
	// ReadyTimeout replaces pods not Ready this long after creation.
	ReadyTimeout time.Duration
	// LeaderElect elects one replica to manage pools (a Lease).
	LeaderElect bool
	// TaskOutputBytes is the tail of stdout (and of stderr) kept in Task status.
	TaskOutputBytes int
	// TaskEvents says which finished Tasks get an Event (eventvolume.Volume).
	TaskEvents string
	// SandboxEvents says which Sandbox Events are recorded (eventvolume.Volume).
	SandboxEvents string
	// TaskLogBytes is the window of a running Task's combined output kept
	// in memory for tasks/{name}/log.
	TaskLogBytes int
	// MaxConcurrentTasks bounds the Tasks running at once on one replica.
	MaxConcurrentTasks int
	// TaskTTLDeletesPerSecond paces one replica's deletes of expired Tasks.
	TaskTTLDeletesPerSecond float64
	// Namespace is the server's own: the sidecar CA and the Lease live there.
	Namespace string
	// ShutdownTaskGrace is how long a stopping replica lets its running
	// Tasks finish before it cuts them (RunnerLost).
	ShutdownTaskGrace time.Duration
	// LocalMemory, LocalCPU and LocalPIDs bound each local sandbox where
	// its pool's executor sets no limit (standalone mode).
	LocalMemory resource.Quantity
	LocalCPU    resource.Quantity
	LocalPIDs   int64
	// PrivilegedNamespaces may have pools whose templates ask for what
	// reaches past the pod: host namespaces, hostPath, privileged, ...
	PrivilegedNamespaces []string
	// NetworkPolicies keeps a NetworkPolicy per pool.
	NetworkPolicies bool
	// ServerPodLabels select this server's pods in Namespace: the pools'
	// NetworkPolicies let only them reach the sidecar.
	ServerPodLabels map[string]string
	// EgressDenyCIDRs are excluded from every pool's Internet egress.
	EgressDenyCIDRs []string
	// PodClaims is where a bind claims its pod in a cluster: PodClaimsEtcd
	// or PodClaimsLabels.
	PodClaims string
}

// Where a bind claims its pod (--pod-claims).
const (
	// PodClaimsEtcd: a claim key in ARL's etcd (package pool/claims); the
	// pod's labels follow asynchronously.
	PodClaimsEtcd = "etcd"
	// PodClaimsLabels: a conditional update of the pod's labels through
	// kube-apiserver, on the bind path.
	PodClaimsLabels = "labels"
)

// maxTaskOutputBytes bounds --task-output-bytes: 1 MiB of spec, two
// streams of this, and room for metadata stay within etcd's request limit.
const maxTaskOutputBytes = 192 << 10

// AddFlags adds the pool's flags.
func (o *PoolOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.SidecarBinary, "sidecar-binary", o.SidecarBinary,
		"Standalone mode: the arl-sidecar executable local sandboxes run (default: next to arl-apiserver, else on PATH).")
	fs.StringVar(&o.SidecarImage, "sidecar-image", "ghcr.io/arl-infra/arl-sidecar:v0.1.0",
		"The arl-sidecar image every pool pod runs (install init container and sidecar container).")
	fs.DurationVar(&o.ReadyTimeout, "pod-ready-timeout", 5*time.Minute,
		"A pool pod that is not Ready this long after it was created is replaced.")
	fs.IntVar(&o.TaskOutputBytes, "task-output-bytes", 128<<10,
		"Bytes of a Task's stdout, and of its stderr, kept in its status as stored (the last ones of the last attempt; "+
			"JSON takes 6 bytes for '<' or a control byte); at most 196608.")
	fs.StringVar(&o.TaskEvents, "task-events", string(eventvolume.Failures),
		"Which finished Tasks get an Event: all, failures or none. Each Event is one more write per Task, which "+
			"a fleet running many Tasks a second should not pay for every success (its status says the same).")
	fs.StringVar(&o.SandboxEvents, "sandbox-events", string(eventvolume.All),
		"Which Sandbox Events are recorded: all, failures (Warnings only: a bind that failed, a pod lost) or none. "+
			"Bound is one more write to kube-apiserver per bind; a fleet binding many sandboxes a second may keep only the failures.")
	fs.IntVar(&o.TaskLogBytes, "task-log-bytes", 1<<20,
		"Bytes of a running Task's combined output this replica keeps in memory for tasks/{name}/log (the last ones): "+
			"where a late reader starts, how far a follower may fall behind before it is cut off, and what ?raw=true serves "+
			"for a few minutes after the Task finishes.")
	fs.IntVar(&o.MaxConcurrentTasks, "max-concurrent-tasks", 1024,
		"Tasks running at once on this replica; more wait. Tasks of one Sandbox always run one at a time.")
	fs.Float64Var(&o.TaskTTLDeletesPerSecond, "task-ttl-deletes-per-second", executor.DefaultTTLDeletesPerSecond,
		"How many Tasks past their ttlSecondsAfterFinished this replica deletes a second, at most. Expired Tasks are "+
			"background work: a backlog deleted faster takes the CPU and store that binds and Tasks need; one created "+
			"faster than all replicas together delete grows until Task creation slows.")
	fs.DurationVar(&o.ShutdownTaskGrace, "shutdown-task-grace", 0,
		"On SIGTERM, after --shutdown-delay-duration, how long this replica lets the Tasks it runs finish before it cuts "+
			"them (reason RunnerLost). The pod's terminationGracePeriodSeconds must cover both, and the request drain.")
	fs.BoolVar(&o.LeaderElect, "leader-elect", true,
		"Elect one replica (a Lease) to manage pools; every replica binds. Off: this replica always manages.")
	fs.StringVar(&o.Namespace, "namespace", namespaceFromEnv(),
		"The server's namespace, for the sidecar CA Secret and the leader Lease (default: $POD_NAMESPACE, else arl-system).")
	o.LocalMemory, o.LocalCPU = resource.MustParse("2Gi"), resource.MustParse("1")
	fs.Var(&quantityFlag{&o.LocalMemory}, "local-sandbox-memory",
		"Standalone mode: memory limit of a local sandbox whose pool's executor sets none (resources.limits.memory); 0: none.")
	fs.Var(&quantityFlag{&o.LocalCPU}, "local-sandbox-cpu",
		"Standalone mode: CPU limit of a local sandbox whose pool's executor sets none (resources.limits.cpu); 0: none.")
	fs.Int64Var(&o.LocalPIDs, "local-sandbox-pids", 1024,
		"Standalone mode: the most processes and threads a local sandbox may have at once; 0: no limit.")
	fs.StringSliceVar(&o.PrivilegedNamespaces, "privileged-pool-namespaces", o.PrivilegedNamespaces,
		"Namespaces whose WarmPool templates may ask for the node's network, PID or IPC namespace, hostPath volumes, "+
			"host ports, privileged containers, capabilities beyond the runtime's defaults, unconfined seccomp or AppArmor, "+
			"an unmasked /proc or a shared process namespace. Elsewhere such a template is refused (422).")
	fs.BoolVar(&o.NetworkPolicies, "pool-network-policies", true,
		"Keep a NetworkPolicy per WarmPool: only this server reaches the pool's sidecars, egress as spec.network.egress says. "+
			"Off: ARL writes none (and spec.network has no effect).")
	fs.StringToStringVar(&o.ServerPodLabels, "server-pod-labels", map[string]string{"app.kubernetes.io/name": "arl-apiserver"},
		"Labels of this server's pods (in --namespace): the pools' NetworkPolicies let only these pods reach the sidecar port.")
	fs.StringSliceVar(&o.EgressDenyCIDRs, "pool-egress-deny-cidrs", o.EgressDenyCIDRs,
		"CIDRs no pool's Internet egress reaches, besides the non-public ranges, cloud metadata endpoints and kube-apiserver's "+
			"addresses (e.g. nodes on public addresses).")
	fs.StringVar(&o.PodClaims, "pod-claims", PodClaimsEtcd,
		"Where a bind claims its pool pod in a cluster: 'etcd' (one transaction in ARL's etcd; the pod's labels follow) or "+
			"'labels' (a conditional pod update through kube-apiserver before the Sandbox is stored).")
}

// Validate checks the pool's flags.
func (o *PoolOptions) Validate() []error {
	var errs []error
	if o.LocalMemory.Sign() < 0 || o.LocalCPU.Sign() < 0 || o.LocalPIDs < 0 {
		errs = append(errs, fmt.Errorf("--local-sandbox-memory, --local-sandbox-cpu and --local-sandbox-pids must not be negative"))
	}
	if o.TaskOutputBytes <= 0 || o.TaskOutputBytes > maxTaskOutputBytes {
		errs = append(errs, fmt.Errorf("--task-output-bytes must be positive and at most %d: a Task's status (stdout and stderr, "+
			"each up to this many bytes as stored) shares one etcd write of 1.5 MiB with its spec (up to 1 MiB) and metadata", maxTaskOutputBytes))
	}
	if err := eventvolume.Volume(o.TaskEvents).Validate("--task-events"); err != nil {
		errs = append(errs, err)
	}
	if err := eventvolume.Volume(o.SandboxEvents).Validate("--sandbox-events"); err != nil {
		errs = append(errs, err)
	}
	if o.ShutdownTaskGrace < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-task-grace must not be negative"))
	}
	if o.MaxConcurrentTasks <= 0 {
		errs = append(errs, fmt.Errorf("--max-concurrent-tasks must be positive"))
	}
	if o.TaskTTLDeletesPerSecond <= 0 {
		errs = append(errs, fmt.Errorf("--task-ttl-deletes-per-second must be positive"))
	}
	if o.PodClaims != PodClaimsEtcd && o.PodClaims != PodClaimsLabels {
		errs = append(errs, fmt.Errorf("--pod-claims must be %q or %q, not %q", PodClaimsEtcd, PodClaimsLabels, o.PodClaims))
	}
	if _, err := o.egressDenied(); err != nil {
		errs = append(errs, err)
	}
	if o.NetworkPolicies && len(o.ServerPodLabels) == 0 {
		errs = append(errs, fmt.Errorf("--server-pod-labels must select this server's pods when --pool-network-policies is on"))
	}
	for key, value := range o.ServerPodLabels {
		for _, msg := range append(validation.IsQualifiedName(key), validation.IsValidLabelValue(value)...) {
			errs = append(errs, fmt.Errorf("--server-pod-labels %s=%s: %s", key, value, msg))
		}
	}
	for _, ns := range o.PrivilegedNamespaces {
		for _, msg := range validation.IsDNS1123Label(ns) {
			errs = append(errs, fmt.Errorf("--privileged-pool-namespaces %q: %s", ns, msg))
		}
	}
	return errs
}

// egressDenied parses --pool-egress-deny-cidrs.
func (o *PoolOptions) egressDenied() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range o.EgressDenyCIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Bits() == 0 || p != p.Masked() {
			return nil, fmt.Errorf("--pool-egress-deny-cidrs %q: want a CIDR such as 203.0.113.0/24, narrower than /0, without host bits", s)
		}
		out = append(out, p)
	}
	return out, nil
}

// quantityFlag is a resource.Quantity as a flag value.
type quantityFlag struct{ q *resource.Quantity }

func (f *quantityFlag) String() string { return f.q.String() }
func (f *quantityFlag) Type() string   { return "quantity" }
func (f *quantityFlag) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err == nil {
		*f.q = q
	}
	return err
}

func namespaceFromEnv() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	return "arl-system"
}

// applyLocal configures standalone mode's local runtime: sandboxes are
// bubblewrap processes with their files under dataDir/pods.
func (o *PoolOptions) applyLocal(extra *apiserver.ExtraConfig, dataDir string) error {
	sidecar, err := o.sidecarBinary()
	if err != nil {
		return err
	}
	runtime, err := local.New(local.Options{
		Dir:           filepath.Join(dataDir, "pods"),
		SidecarBinary: sidecar,
		// Sandboxes must not read the server's keys or each other's files.
		Hide: []string{dataDir},
		Limits: local.Limits{
			MemoryBytes: o.LocalMemory.Value(),
			CPUMillis:   o.LocalCPU.MilliValue(),
			PIDs:        o.LocalPIDs,
		},
	})
	if err != nil {
		return err
	}
	extra.PoolRuntime = runtime
	extra.Agents = client.NewPool()
	o.applyTasks(extra)
	extra.Identity = "standalone-" + string(uuid.NewUUID())
	extra.ServeEvents = true
	return nil
}

func (o *PoolOptions) sidecarBinary() (string, error) {
	if o.SidecarBinary != "" {
		return filepath.Abs(o.SidecarBinary)
	}
	if self, err := os.Executable(); err == nil {
		if p := filepath.Join(filepath.Dir(self), "arl-sidecar"); fileExists(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("arl-sidecar")
	if err != nil {
		return "", fmt.Errorf("no arl-sidecar next to arl-apiserver or on PATH; build it (make build) or pass --sidecar-binary")
	}
	return filepath.Abs(p)
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}

// applyTasks sets what both runtimes share: pool and Task tuning, and what
// pools may ask for.
func (o *PoolOptions) applyTasks(extra *apiserver.ExtraConfig) {
	extra.PrivilegedPoolNamespaces = o.PrivilegedNamespaces
	extra.PoolOptions.ReadyTimeout = o.ReadyTimeout
	extra.TaskOutputBytes = o.TaskOutputBytes
	extra.TaskLogBytes = o.TaskLogBytes
	extra.TaskEvents = eventvolume.Volume(o.TaskEvents)
	extra.PoolOptions.SandboxEvents = eventvolume.Volume(o.SandboxEvents)
	extra.MaxConcurrentTasks = o.MaxConcurrentTasks
	extra.TaskTTLDeletesPerSecond = o.TaskTTLDeletesPerSecond
	extra.ShutdownTaskGrace = o.ShutdownTaskGrace
}

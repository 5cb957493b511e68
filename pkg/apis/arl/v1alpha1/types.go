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

package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// +genclient
// +genclient:method=GetScale,verb=get,subresource=scale,result=k8s.io/api/autoscaling/v1.Scale
// +genclient:method=UpdateScale,verb=update,subresource=scale,input=k8s.io/api/autoscaling/v1.Scale,result=k8s.io/api/autoscaling/v1.Scale
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// WarmPool keeps spec.replicas idle, Ready pods made from spec.template so
// that a Sandbox can take one at once instead of waiting for a pod to start.
type WarmPool struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the pool's desired state: how many idle pods, made from what.
	// +required
	Spec WarmPoolSpec `json:"spec,omitempty"`
	// status is what the pool has now.
	// +optional
	Status WarmPoolStatus `json:"status,omitempty"`
}

// WarmPoolSpec is the desired state of a WarmPool.
type WarmPoolSpec struct {
	// replicas is the number of idle, Ready pods to keep (default 1). Pods
	// bound to Sandboxes are not counted: the pool refills behind every bind.
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
	// template is the pod every replica is made from. ARL adds the sidecar
	// container, the agent that wraps the executor container's command, and
	// a "workspace" emptyDir mounted at /workspace when the template has none.
	// +required
	Template corev1.PodTemplateSpec `json:"template"`
	// reusePolicy says what happens to a pod when its Sandbox is deleted:
	// "Delete" (default) deletes it and the pool starts a fresh one; "Reset"
	// kills every process in it, empties /workspace and returns it to the pool.
	// +optional
	ReusePolicy ReusePolicy `json:"reusePolicy,omitempty"`
	// network says what the pool's pods may reach on the network. ARL keeps
	// a NetworkPolicy per pool (named arl-pool-<pool>) that lets only
	// arl-apiserver reach the pods' sidecar and restricts their egress as
	// network.egress says; the cluster's network plugin must enforce
	// NetworkPolicies for it to take effect.
	// +optional
	Network PoolNetwork `json:"network,omitempty"`
}

// PoolNetwork says what a pool's pods may reach on the network.
type PoolNetwork struct {
	// egress says where the pool's pods may open connections to (default:
	// mode Internet).
	// +optional
	Egress PoolEgress `json:"egress,omitempty"`
}

// PoolEgress says where a pool's pods may open connections to: a baseline
// (mode) and destinations allowed on top of it (allow).
type PoolEgress struct {
	// mode is the baseline:
	// "Internet" (default) allows DNS and public addresses, but no private
	// (10/8, 172.16/12, 192.168/16, fc00::/7), shared (100.64/10) or
	// link-local (169.254/16, fe80::/10) address, so no other pod, Service or
	// node on such addresses, no cloud metadata endpoint and not
	// kube-apiserver;
	// "AllowList" allows DNS and the allow list only;
	// "DenyAll" allows nothing, not even DNS (allow must be empty).
	// +optional
	Mode EgressMode `json:"mode,omitempty"`
	// allow lists destinations allowed in addition to the mode's (at most
	// 64, at most 16 of them DNS names). An allowed range wins over the
	// mode's exclusions: allowing 10.0.0.0/8 reaches the pods there.
	// +optional
	// +listType=atomic
	Allow []EgressRule `json:"allow,omitempty"`
}

// EgressMode is the baseline of a pool's egress.
// +enum
type EgressMode string

const (
	// EgressInternet allows DNS and public addresses: not private, shared or
	// link-local ranges (pods, Services, nodes), cloud metadata endpoints or
	// kube-apiserver.
	EgressInternet EgressMode = "Internet"
	// EgressAllowList allows DNS and the allow list only.
	EgressAllowList EgressMode = "AllowList"
	// EgressDenyAll allows nothing, not even DNS.
	EgressDenyAll EgressMode = "DenyAll"
)

// EgressRule is one allowed destination: exactly one of cidr and dnsName,
// on the ports listed (every port when none is).
// +kubebuilder:validation:ExactlyOneOf=cidr;dnsName
type EgressRule struct {
	// cidr is an IPv4 or IPv6 range, e.g. "203.0.113.0/24"; one address is
	// "203.0.113.7/32".
	// +optional
	CIDR string `json:"cidr,omitempty"`
	// dnsName is an absolute host name, e.g. "pypi.org". arl-apiserver
	// resolves it (without search domains) about every 30 seconds and
	// allows the addresses it got; a name that does not resolve allows
	// nothing. A name whose addresses change faster, or differ by
	// resolver, is better allowed by its CIDRs.
	// +optional
	DNSName string `json:"dnsName,omitempty"`
	// ports limit the rule to these destination ports (at most 32).
	// +optional
	// +listType=atomic
	Ports []EgressPort `json:"ports,omitempty"`
}

// EgressPort is a destination port, or a range of ports.
type EgressPort struct {
	// protocol is "TCP" (default), "UDP" or "SCTP".
	// +optional
	Protocol corev1.Protocol `json:"protocol,omitempty"`
	// port is the destination port, 1-65535.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port,omitempty"`
	// endPort is the last port of a range, when set: the rule covers port
	// to endPort.
	// +optional
	EndPort *int32 `json:"endPort,omitempty"`
}

// ReusePolicy says what happens to a pod when its Sandbox is deleted.
// +enum
type ReusePolicy string

const (
	// ReusePolicyDelete deletes the pod; the pool replaces it with a fresh one.
	ReusePolicyDelete ReusePolicy = "Delete"
	// ReusePolicyReset kills every process in the pod, empties its workspace
	// and returns it to the pool's free list.
	ReusePolicyReset ReusePolicy = "Reset"
)

// Condition types of a WarmPool (status.conditions).
const (
	// WarmPoolConditionReady is True when readyReplicas reaches spec.replicas.
	WarmPoolConditionReady = "Ready"
	// WarmPoolConditionRefilling is True while the pool is short of idle
	// pods, its reason saying what the refill does; False (Full) when it has
	// them all.
	WarmPoolConditionRefilling = "Refilling"
	// WarmPoolConditionReplicaFailure is True while the pool's pods fail to
	// start (they are replaced with a backoff).
	WarmPoolConditionReplicaFailure = "ReplicaFailure"
)

// WarmPoolStatus is the observed state of a WarmPool.
type WarmPoolStatus struct {
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// replicas counts the pool's pods that are not terminating, idle or bound.
	// +optional
	Replicas int32 `json:"replicas"`
	// readyReplicas counts idle pods that are Ready to be bound.
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`
	// allocatedReplicas counts pods bound to a Sandbox.
	// +optional
	AllocatedReplicas int32 `json:"allocatedReplicas"`
	// selector is the label selector of the pool's idle pods (scale subresource).
	// +optional
	Selector string `json:"selector,omitempty"`
	// recentBinds summarizes the pool's last binds as the replica managing
	// the pool saw them; absent before the first.
	// +optional
	RecentBinds *WarmPoolBinds `json:"recentBinds,omitempty"`
	// conditions are "Ready", True when readyReplicas reaches spec.replicas;
	// "Refilling", True while the pool is short of idle pods (its reason:
	// Creating, Deferred while binds arrive, BackingOff, NetworkNotReady),
	// False (Full) otherwise; and "ReplicaFailure", True while pods fail to
	// start.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// WarmPoolBinds summarizes a pool's recent binds.
type WarmPoolBinds struct {
	// count is how many binds the figures cover: the last ones, up to 100.
	// +required
	Count int32 `json:"count"`
	// waited is how many of them waited for a new pod (created Pending).
	// +required
	Waited int32 `json:"waited"`
	// p50 is the median of their Sandboxes' bindDuration.
	// +required
	P50 metav1.Duration `json:"p50"`
	// p99 is the 99th percentile of their Sandboxes' bindDuration.
	// +required
	P99 metav1.Duration `json:"p99"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// WarmPoolList is a list of WarmPools.
type WarmPoolList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []WarmPool `json:"items"`
}

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Sandbox takes one pod from a WarmPool and is an agent's workspace: Tasks
// run in it. Creating a Sandbox binds a pod synchronously when the pool has
// an idle one, so the create response already says phase Ready.
type Sandbox struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the pool to take a pod from and the Sandbox's lifetime.
	// +required
	Spec SandboxSpec `json:"spec,omitempty"`
	// status is the bound pod and the Sandbox's phase.
	// +optional
	Status SandboxStatus `json:"status,omitempty"`
}

// SandboxSpec is the desired state of a Sandbox.
type SandboxSpec struct {
	// poolRef names the WarmPool, in the Sandbox's namespace, to take a pod
	// from. It cannot change.
	// +required
	PoolRef string `json:"poolRef"`
	// keepAlive keeps the Sandbox for many Tasks. When false (default) the
	// Sandbox is deleted after its first Task finishes.
	// +optional
	KeepAlive bool `json:"keepAlive,omitempty"`
	// idleTimeoutSeconds deletes the Sandbox after this many seconds without
	// a running Task. Unset means no idle limit.
	// +optional
	IdleTimeoutSeconds *int32 `json:"idleTimeoutSeconds,omitempty"`
	// maxLifetimeSeconds deletes the Sandbox this many seconds after it was
	// created, as soon as no Task is running in it. Unset means no limit.
	// +optional
	MaxLifetimeSeconds *int32 `json:"maxLifetimeSeconds,omitempty"`
	// resources are cpu and memory requests and limits for the executor
	// container while this Sandbox holds the pod; a resource or a kind
	// (requests, limits) left out keeps the pool template's value. The pod
	// is resized in place when it is bound (the Sandbox is Ready once the
	// kubelet runs the executor with them; standalone, the limits bound the
	// local sandbox's cgroup) and is deleted, not returned to its pool,
	// when the Sandbox goes. They cannot change after create.
	// +optional
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
}

// SandboxPhase is the lifecycle phase of a Sandbox.
// +enum
type SandboxPhase string

const (
	// SandboxPending waits for a Ready pod from its pool.
	SandboxPending SandboxPhase = "Pending"
	// SandboxReady has a pod and accepts Tasks.
	SandboxReady SandboxPhase = "Ready"
	// SandboxFailed lost its pod, or its pool cannot serve it; see conditions.
	SandboxFailed SandboxPhase = "Failed"
	// SandboxTerminating is being deleted; its pod is deleted or reset.
	SandboxTerminating SandboxPhase = "Terminating"
)

// Condition types of a Sandbox (status.conditions).
const (
	// SandboxConditionReady says whether Tasks can run and, when not, why.
	SandboxConditionReady = "Ready"
)

// SandboxStatus is the observed state of a Sandbox.
type SandboxStatus struct {
	// phase is Pending, Ready, Failed or Terminating.
	// +optional
	Phase SandboxPhase `json:"phase,omitempty"`
	// podName is the pod bound to this Sandbox.
	// +optional
	PodName string `json:"podName,omitempty"`
	// podUID identifies the bound pod across a delete and re-create under one name.
	// +optional
	PodUID types.UID `json:"podUID,omitempty"`
	// podIP is the bound pod's address.
	// +optional
	PodIP string `json:"podIP,omitempty"`
	// nodeName is the node the pod runs on.
	// +optional
	NodeName string `json:"nodeName,omitempty"`
	// workDir is the working directory of Tasks that do not set one.
	// +optional
	WorkDir string `json:"workDir,omitempty"`
	// boundTime is when the pod was bound.
	// +optional
	BoundTime *metav1.Time `json:"boundTime,omitempty"`
	// bindDuration is how long the bind took: for a Sandbox bound at its
	// create, from the request's arrival to its pod's claim; for one created
	// Pending, from its creation (whole seconds) to its bind.
	// +optional
	BindDuration *metav1.Duration `json:"bindDuration,omitempty"`
	// lastActivityTime is when a Task last started or finished here; the
	// idle timeout counts from it.
	// +optional
	LastActivityTime *metav1.Time `json:"lastActivityTime,omitempty"`
	// observedGeneration is the spec generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// conditions are "Ready", which says whether Tasks can run and, when
	// not, why (reasons such as PoolNotFound, WaitingForPod, PodLost).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxList is a list of Sandboxes.
type SandboxList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []Sandbox `json:"items"`
}

// +genclient
// +genclient:method=Exec,verb=create,subresource=exec,input=Task,result=Task
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Task runs ordered steps (FilePatch, Command) inside a Sandbox; what the
// commands printed and their exit code come back in status. POST
// tasks/{name}/exec runs a Task and answers the finished Task.
type Task struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's standard metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is what the Task runs, and where.
	// +required
	Spec TaskSpec `json:"spec,omitempty"`
	// status is how the Task ran: its state, output and exit code.
	// +optional
	Status TaskStatus `json:"status,omitempty"`
}

// TaskSpec is what a Task runs. Only ttlSecondsAfterFinished can change
// once the Task exists.
type TaskSpec struct {
	// sandboxRef names the Sandbox, in the Task's namespace, to run in.
	// +required
	SandboxRef string `json:"sandboxRef"`
	// steps run in order; the first that fails (exit code not 0) ends the attempt.
	// +required
	// +listType=map
	// +listMapKey=name
	Steps []TaskStep `json:"steps"`
	// timeout bounds each attempt, e.g. "30s" or "5m"; a step still running
	// then is killed with its whole process group. Unset means no limit.
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`
	// retries is how many more attempts a failed attempt gets (default 0).
	// +optional
	Retries int32 `json:"retries,omitempty"`
	// ttlSecondsAfterFinished deletes the Task this many seconds after it
	// finished. Unset keeps it until it is deleted.
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
	// traceID ties the Task to the caller's trace, e.g. a W3C trace ID (at
	// most 128 characters). It is kept on the Task, and the log lines of the
	// server that runs the Task and the Events recorded for it carry it.
	// +optional
	TraceID string `json:"traceID,omitempty"`
}

// StepType is the kind of a TaskStep.
// +enum
type StepType string

const (
	// StepFilePatch writes content to path.
	StepFilePatch StepType = "FilePatch"
	// StepCommand runs command (an argv, no shell).
	StepCommand StepType = "Command"
)

// TaskStep is one step of a Task.
type TaskStep struct {
	// name is unique within the Task.
	// +required
	Name string `json:"name"`
	// type is "FilePatch" (write a file) or "Command" (run a program).
	// +required
	Type StepType `json:"type"`

	// path is the file a FilePatch step writes, created with its parent
	// directories; a relative path is under the Sandbox's working directory.
	// +optional
	Path string `json:"path,omitempty"`
	// content is the whole new content of path (FilePatch).
	// +optional
	Content string `json:"content,omitempty"`
	// mode is the file's permission bits, e.g. 0755 (FilePatch; default 0644).
	// +optional
	Mode *int32 `json:"mode,omitempty"`

	// command is the argv a Command step runs; no shell is involved, so use
	// ["bash", "-c", "..."] for pipes and redirections.
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`
	// workDir is the Command's working directory (default: the Sandbox's, /workspace).
	// +optional
	WorkDir string `json:"workDir,omitempty"`
	// env adds environment variables to the Command.
	// +optional
	Env map[string]string `json:"env,omitempty"`
	// background starts the Command and moves on without waiting for it: its
	// PID is reported in status.steps and it keeps running after the Task.
	// +optional
	Background bool `json:"background,omitempty"`
	// container is "executor", "sidecar" or unset, as the manual's SDK
	// sends it. Every step runs in the executor container whatever it says:
	// ARL's sidecar runs no user code.
	// +optional
	Container StepContainer `json:"container,omitempty"`
}

// StepContainer names the container a step asks to run in; every step runs
// in the executor.
// +enum
type StepContainer string

const (
	// StepContainerExecutor is the pod's executor container.
	StepContainerExecutor StepContainer = "executor"
	// StepContainerSidecar is accepted for the manual's SDK; the step runs
	// in the executor.
	StepContainerSidecar StepContainer = "sidecar"
)

// TaskState is the lifecycle state of a Task.
// +enum
type TaskState string

const (
	// TaskPending waits for its Sandbox to be Ready, or for earlier Tasks of
	// the same Sandbox to finish.
	TaskPending TaskState = "Pending"
	// TaskRunning is executing its steps.
	TaskRunning TaskState = "Running"
	// TaskSucceeded ran every step with exit code 0.
	TaskSucceeded TaskState = "Succeeded"
	// TaskFailed had a step fail in its last attempt, timed out, or could not run.
	TaskFailed TaskState = "Failed"
)

// Condition types of a Task (status.conditions).
const (
	// TaskConditionComplete is True once the Task finished; its reason says how.
	TaskConditionComplete = "Complete"
)

// TaskStatus is what a Task did.
type TaskStatus struct {
	// state is Pending, Running, Succeeded or Failed.
	// +optional
	State TaskState `json:"state,omitempty"`
	// exitCode is the exit code of the last step that ran.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`
	// stdout is what the Command steps of the last attempt printed on
	// stdout, in order, as text: bytes that are not UTF-8 read as U+FFFD.
	// Only the last bytes are kept when it is longer than the server's cap
	// (--task-output-bytes, 128 KiB by default); tasks/{name}/log?raw=true
	// serves the exact bytes for a while after the Task finished.
	// +optional
	Stdout string `json:"stdout,omitempty"`
	// stderr is what the Command steps of the last attempt printed on
	// stderr, as stdout is for stdout.
	// +optional
	Stderr string `json:"stderr,omitempty"`
	// stdoutTruncated says stdout lost its beginning to the server's cap.
	// +optional
	StdoutTruncated bool `json:"stdoutTruncated,omitempty"`
	// stderrTruncated says stderr lost its beginning to the server's cap.
	// +optional
	StderrTruncated bool `json:"stderrTruncated,omitempty"`
	// steps holds one result per step that ran in the last attempt.
	// +optional
	// +listType=map
	// +listMapKey=name
	Steps []StepResult `json:"steps,omitempty"`
	// attempts counts the attempts made so far.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// startTime is when the first attempt started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// completionTime is when the Task finished.
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// duration is completionTime minus startTime.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
	// runner identifies the arl-apiserver replica running the Task. When that
	// replica is gone the others mark the Task Failed rather than re-run steps.
	// +optional
	Runner string `json:"runner,omitempty"`
	// conditions are "Complete", with a reason such as Succeeded, StepFailed,
	// TimedOut, OOMKilled, SandboxNotFound, SandboxFailed or RunnerLost.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// StepResult is what one step did.
type StepResult struct {
	// name is the step's name.
	// +required
	Name string `json:"name"`
	// exitCode is the step's exit code (a FilePatch that failed reports 1).
	// +required
	ExitCode int32 `json:"exitCode"`
	// signal names the signal that ended the process, if one did.
	// +optional
	Signal string `json:"signal,omitempty"`
	// timedOut says the Task's timeout ended the step.
	// +optional
	TimedOut bool `json:"timedOut,omitempty"`
	// pid is the process id of a background Command.
	// +optional
	PID int32 `json:"pid,omitempty"`
	// startTime is when the step started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// duration is how long the step ran.
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
	// message explains a step that could not run (e.g. a FilePatch error).
	// +optional
	Message string `json:"message,omitempty"`
	// stdout is what this step printed on stdout (the last attempt's, as
	// status.stdout). It shares the server's cap on status output
	// (--task-output-bytes) with status.stdout: status.stdout and the
	// steps' stdout together hold at most the cap, so a step's text is
	// whole when the Task printed less than half the cap, and is cut from
	// the front, the earliest steps' first, when it printed more.
	// +optional
	Stdout string `json:"stdout,omitempty"`
	// stderr is what this step printed on stderr, as far as the Task's
	// status.stderr holds it (see stdout).
	// +optional
	Stderr string `json:"stderr,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// TaskList is a list of Tasks.
type TaskList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []Task `json:"items"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +k8s:conversion-gen:explicit-from=net/url.Values

// SandboxExecOptions are the query parameters of sandboxes/{name}/exec,
// the same as pods/exec's: a command run in the Sandbox, attached to the
// caller's streams over a WebSocket (v5.channel.k8s.io or
// v4.channel.k8s.io), with no object stored.
type SandboxExecOptions struct {
	metav1.TypeMeta `json:",inline"`
	// stdin attaches the caller's standard input.
	// +optional
	Stdin bool `json:"stdin,omitempty"`
	// stdout attaches the command's standard output.
	// +optional
	Stdout bool `json:"stdout,omitempty"`
	// stderr attaches the command's standard error. A terminal (tty) has
	// one output: with tty, stderr is refused.
	// +optional
	Stderr bool `json:"stderr,omitempty"`
	// tty runs the command on a terminal (a PTY) the caller can resize and
	// signal with its control characters (Ctrl-C).
	// +optional
	TTY bool `json:"tty,omitempty"`
	// command is the argv, looked up in the sandbox's PATH. Empty with
	// tty: the sandbox's shell ($SHELL, else /bin/bash, else /bin/sh).
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +k8s:conversion-gen:explicit-from=net/url.Values

// TaskLogOptions are the query parameters of tasks/{name}/log.
type TaskLogOptions struct {
	metav1.TypeMeta `json:",inline"`
	// follow streams output as the Task produces it, until it finishes.
	// +optional
	Follow bool `json:"follow,omitempty"`
	// raw asks for the exact bytes the Task's commands printed (binary
	// safe: invalid UTF-8 and NUL bytes as printed), stdout and stderr
	// interleaved as produced, also once the Task finished. They are kept
	// in the memory of the replica that runs the Task: the last
	// --task-log-bytes of its output, while it runs and for a few minutes
	// after. A replica that does not hold them answers 503 while the Task
	// runs elsewhere and 410 Gone once it finished. Without raw, a
	// finished Task's log is its status.stdout followed by its
	// status.stderr: UTF-8 text, each the last --task-output-bytes of the
	// last attempt.
	// +optional
	Raw bool `json:"raw,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxProcessList is the answer of GET sandboxes/{name}/processes: the
// processes the Sandbox's agent tracks (background Commands, with their PIDs).
type SandboxProcessList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []SandboxProcess `json:"items"`
}

// SandboxProcess is one process started in a Sandbox.
type SandboxProcess struct {
	// pid is the process id inside the Sandbox.
	// +required
	PID int32 `json:"pid"`
	// tag is the name given at start, if any.
	// +optional
	Tag string `json:"tag,omitempty"`
	// command is the process's argv.
	// +optional
	// +listType=atomic
	Command []string `json:"command,omitempty"`
	// state is Running or Exited.
	// +optional
	State string `json:"state,omitempty"`
	// background says the process was started by a background Command.
	// +optional
	Background bool `json:"background,omitempty"`
	// exitCode is set once the process exited.
	// +optional
	ExitCode *int32 `json:"exitCode,omitempty"`
	// signal names the signal that ended it, if one did.
	// +optional
	Signal string `json:"signal,omitempty"`
	// startTime is when it started.
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// logTail is the end of a background process's output.
	// +optional
	LogTail string `json:"logTail,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxSignal is the body and the answer of POST sandboxes/{name}/signal:
// a signal for a process in the Sandbox, by PID or by tag.
type SandboxSignal struct {
	metav1.TypeMeta `json:",inline"`
	// metadata may be left out; a name, if given, must be the Sandbox's.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// pid is the process to signal (e.g. a background step's status.steps[].pid).
	// +optional
	PID int32 `json:"pid,omitempty"`
	// tag picks the process by the tag it was started with, instead of pid.
	// +optional
	Tag string `json:"tag,omitempty"`
	// signal is a name (SIGTERM, TERM, term) or a number; default SIGTERM.
	// +optional
	Signal string `json:"signal,omitempty"`
	// processOnly signals the process alone instead of its process group.
	// +optional
	ProcessOnly bool `json:"processOnly,omitempty"`

	// status is what the signal reached.
	// +optional
	Status SandboxSignalStatus `json:"status,omitempty"`
}

// SandboxSignalStatus is what a signal reached.
type SandboxSignalStatus struct {
	// pid is the process signalled.
	// +optional
	PID int32 `json:"pid,omitempty"`
	// signal is the signal sent, by name.
	// +optional
	Signal string `json:"signal,omitempty"`
	// processGroup says the whole process group was signalled.
	// +optional
	ProcessGroup bool `json:"processGroup,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxReset is the body and the answer of POST sandboxes/{name}/reset:
// kill every process in the Sandbox and empty its workspace.
type SandboxReset struct {
	metav1.TypeMeta `json:",inline"`
	// metadata may be left out; a name, if given, must be the Sandbox's.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// preserveFiles kills the processes but keeps the workspace's files.
	// +optional
	PreserveFiles bool `json:"preserveFiles,omitempty"`

	// status is what the reset killed and removed.
	// +optional
	Status SandboxResetStatus `json:"status,omitempty"`
}

// SandboxResetStatus is what a reset killed and removed.
type SandboxResetStatus struct {
	// killed are the processes killed.
	// +optional
	// +listType=atomic
	Killed []SandboxProcess `json:"killed,omitempty"`
	// removed are the workspace's top-level entries removed.
	// +optional
	// +listType=atomic
	Removed []string `json:"removed,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +k8s:conversion-gen:explicit-from=net/url.Values

// SandboxFileOptions are the query parameters of sandboxes/{name}/files, a
// Sandbox's files read and written through the API: GET reads the content
// (view=content, the default), describes the path (view=stat) or lists a
// directory (view=list); PUT writes the request body to the file
// atomically, of any size; POST makes a directory; DELETE removes.
type SandboxFileOptions struct {
	metav1.TypeMeta `json:",inline"`
	// path is absolute, or relative to the workspace. No `..` elements.
	// +required
	Path string `json:"path"`
	// view is what a GET answers: content (the bytes), stat (a
	// SandboxFileList of the path itself) or list (its entries).
	// +optional
	View string `json:"view,omitempty"`
	// depth is how many levels view=list descends; default 1, at most 64.
	// +optional
	Depth int64 `json:"depth,omitempty"`
	// offset is where view=content starts, in bytes.
	// +optional
	Offset int64 `json:"offset,omitempty"`
	// length is how many bytes view=content answers at most; 0: to the end.
	// +optional
	Length int64 `json:"length,omitempty"`
	// mode is the permission bits (at most 07777, as a decimal number) a PUT
	// gives the file or a POST the directory. 0: a new file 0644 (an
	// overwritten one keeps its mode), a directory 0755.
	// +optional
	Mode int64 `json:"mode,omitempty"`
	// parents creates missing parent directories (PUT, POST); a POST with
	// parents also succeeds when the directory exists.
	// +optional
	Parents bool `json:"parents,omitempty"`
	// recursive lets DELETE remove a directory with its contents.
	// +optional
	Recursive bool `json:"recursive,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +k8s:conversion-gen:explicit-from=net/url.Values

// SandboxArchiveOptions are the query parameters of sandboxes/{name}/archive:
// GET answers a tar stream (application/x-tar) of the file or directory at
// path; PUT extracts the tar in the request body into the directory path.
type SandboxArchiveOptions struct {
	metav1.TypeMeta `json:",inline"`
	// path is absolute, or relative to the workspace. No `..` elements.
	// +required
	Path string `json:"path"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxFileList is the answer of sandboxes/{name}/files for view=stat
// (one item), view=list (the entries, sorted by path), a PUT (the file
// written) and a POST (the directory made).
type SandboxFileList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is empty: the list is an answer, not a stored object.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	// items are the paths described.
	// +required
	Items []SandboxFile `json:"items"` //nolint:kubeapilinter // openapi-gen forbids a listType on a List's items (list_type_missing)
	// truncated says a list stopped at the agent's limit (10,000 entries).
	// +optional
	Truncated bool `json:"truncated,omitempty"`
}

// SandboxFile describes a path in a Sandbox.
type SandboxFile struct {
	// path is absolute and clean.
	// +required
	Path string `json:"path"`
	// type is File, Directory, Symlink or Other (a device, FIFO or socket).
	// +optional
	Type string `json:"type,omitempty"`
	// size is in bytes.
	// +optional
	Size int64 `json:"size,omitempty"`
	// mode is the permission bits (07777).
	// +optional
	Mode int32 `json:"mode,omitempty"`
	// modTime is when the content last changed.
	// +optional
	ModTime *metav1.Time `json:"modTime,omitempty"`
	// linkTarget is where a symbolic link points.
	// +optional
	LinkTarget string `json:"linkTarget,omitempty"`
}

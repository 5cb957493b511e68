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

package arl

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// WarmPool keeps Spec.Replicas idle, Ready pods made from Spec.Template so
// that a Sandbox can take one without waiting for a pod to start.
type WarmPool struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   WarmPoolSpec
	Status WarmPoolStatus
}

// WarmPoolSpec is the desired state of a WarmPool.
type WarmPoolSpec struct {
	// Replicas is the number of idle, Ready pods to keep. Pods handed to
	// Sandboxes are extra: the pool refills behind every bind.
	Replicas int32
	// Template is the pod every replica is made from. ARL adds its sidecar,
	// the agent that wraps the executor's command, and a /workspace volume.
	Template corev1.PodTemplateSpec
	// ReusePolicy says what happens to a pod when its Sandbox is deleted.
	ReusePolicy ReusePolicy
	// Network says what the pool's pods may reach on the network.
	Network PoolNetwork
}

// PoolNetwork says what a pool's pods may reach on the network. ARL keeps a
// NetworkPolicy per pool that says it; the cluster's network plugin enforces it.
type PoolNetwork struct {
	// Egress says where the pool's pods may open connections to.
	Egress PoolEgress
}

// PoolEgress says where a pool's pods may open connections to.
type PoolEgress struct {
	// Mode is the baseline that Allow adds to.
	Mode EgressMode
	// Allow lists further destinations.
	Allow []EgressRule
}

// EgressMode is the baseline of a pool's egress.
type EgressMode string

const (
	// EgressInternet allows DNS and public addresses: not private,
	// shared or link-local ranges (pods, Services, nodes), cloud metadata
	// endpoints or kube-apiserver.
	EgressInternet EgressMode = "Internet"
	// EgressAllowList allows DNS and the allow list only.
	EgressAllowList EgressMode = "AllowList"
	// EgressDenyAll allows nothing, not even DNS.
	EgressDenyAll EgressMode = "DenyAll"
)

// EgressRule is one allowed destination: a CIDR or a DNS name, on some or
// all ports.
type EgressRule struct {
	// CIDR is an IPv4 or IPv6 range.
	CIDR string
	// DNSName is an absolute host name that arl-apiserver resolves and
	// allows the addresses of.
	DNSName string
	// Ports limit the rule; none means every port.
	Ports []EgressPort
}

// EgressPort is a destination port or range of ports.
type EgressPort struct {
	// Protocol is TCP, UDP or SCTP.
	Protocol corev1.Protocol
	// Port is the destination port.
	Port int32
	// EndPort, when set, makes the rule cover Port to EndPort.
	EndPort *int32
}

// ReusePolicy says what happens to a pod when its Sandbox is deleted.
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
	// pods, its reason saying what the refill does (Creating, Deferred while
	// binds arrive, BackingOff after failures, NetworkNotReady); False
	// (Full) when it has them all.
	WarmPoolConditionRefilling = "Refilling"
	// WarmPoolConditionReplicaFailure is True while the pool's pods fail to
	// start (they are replaced with a backoff).
	WarmPoolConditionReplicaFailure = "ReplicaFailure"
)

// WarmPoolStatus is the observed state of a WarmPool.
type WarmPoolStatus struct {
	// ObservedGeneration is the spec generation this status describes.
	ObservedGeneration int64
	// Replicas counts the pool's pods that are not terminating, idle or allocated.
	Replicas int32
	// ReadyReplicas counts idle pods that are Ready to be bound.
	ReadyReplicas int32
	// AllocatedReplicas counts pods bound to a Sandbox.
	AllocatedReplicas int32
	// Selector selects the pool's idle pods; the scale subresource reports it.
	Selector string
	// RecentBinds summarizes the pool's last binds as the replica managing
	// the pool saw them; nil before the first.
	RecentBinds *WarmPoolBinds
	Conditions  []metav1.Condition
}

// WarmPoolBinds summarizes a pool's recent binds.
type WarmPoolBinds struct {
	// Count is how many binds the figures cover: the last ones, up to 100.
	Count int32
	// Waited is how many of them waited for a new pod (created Pending).
	Waited int32
	// P50 and P99 are percentiles of their Sandboxes' bindDuration.
	P50 metav1.Duration
	P99 metav1.Duration
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// WarmPoolList is a list of WarmPools.
type WarmPoolList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []WarmPool
}

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Sandbox takes one pod from a WarmPool and is an agent's workspace for Tasks.
type Sandbox struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   SandboxSpec
	Status SandboxStatus
}

// SandboxSpec is the desired state of a Sandbox.
type SandboxSpec struct {
	// PoolRef names the WarmPool, in the Sandbox's namespace, to take a pod from.
	PoolRef string
	// KeepAlive keeps the Sandbox for many Tasks. When false the Sandbox is
	// deleted after its first Task finishes.
	KeepAlive bool
	// IdleTimeoutSeconds deletes the Sandbox after this long without a
	// running Task. Unset means no idle limit.
	IdleTimeoutSeconds *int32
	// MaxLifetimeSeconds deletes the Sandbox this long after it was created,
	// once no Task is running in it. Unset means no limit.
	MaxLifetimeSeconds *int32
	// Resources are cpu and memory requests and limits for the executor
	// container while this Sandbox holds the pod, over the pool template's
	// own: the pod is resized in place when it is bound, and deleted rather
	// than returned to its pool when the Sandbox goes.
	Resources corev1.ResourceRequirements
}

// SandboxPhase is the lifecycle phase of a Sandbox.
type SandboxPhase string

const (
	// SandboxPending waits for a Ready pod from its pool.
	SandboxPending SandboxPhase = "Pending"
	// SandboxReady has a pod and accepts Tasks.
	SandboxReady SandboxPhase = "Ready"
	// SandboxFailed lost its pod, or its pool cannot serve it; see its conditions.
	SandboxFailed SandboxPhase = "Failed"
	// SandboxTerminating is being deleted; its pod is being deleted or reset.
	SandboxTerminating SandboxPhase = "Terminating"
)

// Condition types of a Sandbox (status.conditions).
const (
	// SandboxConditionReady says whether Tasks can run and, when not, why.
	SandboxConditionReady = "Ready"
)

// SandboxStatus is the observed state of a Sandbox.
type SandboxStatus struct {
	Phase SandboxPhase
	// PodName is the pod bound to this Sandbox.
	PodName string
	// PodUID identifies the bound pod across a delete and re-create under one name.
	PodUID types.UID
	// PodIP is the pod's address (in standalone mode, the local sandbox's address).
	PodIP string
	// NodeName is the node the pod runs on.
	NodeName string
	// WorkDir is the working directory of Tasks that do not set one.
	WorkDir string
	// BoundTime is when the pod was bound.
	BoundTime *metav1.Time
	// BindDuration is how long the bind took: for a Sandbox bound at its
	// create, from the request's arrival to its pod's claim; for one created
	// Pending, from its creation (whole seconds) to its bind.
	BindDuration *metav1.Duration
	// LastActivityTime is when a Task last started or finished here; the idle
	// timeout counts from it.
	LastActivityTime *metav1.Time
	// ObservedGeneration is the spec generation this status describes.
	ObservedGeneration int64
	Conditions         []metav1.Condition
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxList is a list of Sandboxes.
type SandboxList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []Sandbox
}

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Task runs ordered steps inside a Sandbox and records what they printed.
type Task struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   TaskSpec
	Status TaskStatus
}

// TaskSpec is what a Task runs. It cannot change once the Task exists,
// except TTLSecondsAfterFinished.
type TaskSpec struct {
	// SandboxRef names the Sandbox, in the Task's namespace, to run in.
	SandboxRef string
	// Steps run in order; the first that fails ends the attempt.
	Steps []TaskStep
	// Timeout bounds each attempt. Unset means no limit.
	Timeout *metav1.Duration
	// Retries is how many more attempts a failed attempt gets.
	Retries int32
	// TTLSecondsAfterFinished deletes the Task this long after it finished.
	TTLSecondsAfterFinished *int32
	// TraceID ties the Task to the caller's trace; the runner's log lines
	// and the Task's Events carry it.
	TraceID string
}

// StepType is the kind of a TaskStep.
type StepType string

const (
	// StepFilePatch writes Content to Path.
	StepFilePatch StepType = "FilePatch"
	// StepCommand runs Command (an argv, no shell).
	StepCommand StepType = "Command"
)

// TaskStep is one step of a Task.
type TaskStep struct {
	// Name is unique within the Task.
	Name string
	Type StepType

	// Path is the file a FilePatch step writes; relative paths are under the
	// Sandbox's working directory.
	Path string
	// Content is the whole new content of Path.
	Content string
	// Mode is the file's permission bits (default 0644).
	Mode *int32

	// Command is the argv a Command step runs; no shell is involved.
	Command []string
	// WorkDir is the Command's working directory (default: the Sandbox's).
	WorkDir string
	// Env adds environment variables to the Command.
	Env map[string]string
	// Background starts the Command and moves on without waiting: its PID is
	// reported in the step's result and it keeps running after the Task.
	Background bool
	// Container is the container the step asks for (the manual's SDK sends
	// it); every step runs in the executor whatever it says.
	Container StepContainer
}

// StepContainer names the container a step asks to run in.
type StepContainer string

const (
	// StepContainerExecutor is the pod's executor container.
	StepContainerExecutor StepContainer = "executor"
	// StepContainerSidecar is accepted for the manual's SDK; the step runs
	// in the executor.
	StepContainerSidecar StepContainer = "sidecar"
)

// TaskState is the lifecycle state of a Task.
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
	State TaskState
	// ExitCode is the exit code of the last step that ran.
	ExitCode *int32
	// Stdout is what the Command steps of the last attempt printed on
	// stdout, in order; only the last bytes are kept when it is longer than
	// the server's cap. Stored and served as JSON text, so bytes that are
	// not UTF-8 read as U+FFFD.
	Stdout string
	// Stderr is the same for stderr.
	Stderr string
	// StdoutTruncated says Stdout lost its beginning to the cap.
	StdoutTruncated bool
	// StderrTruncated says Stderr lost its beginning to the cap.
	StderrTruncated bool
	// Steps holds one result per step that ran in the last attempt.
	Steps []StepResult
	// Attempts counts the attempts made so far.
	Attempts       int32
	StartTime      *metav1.Time
	CompletionTime *metav1.Time
	// Duration is CompletionTime minus StartTime.
	Duration *metav1.Duration
	// Runner identifies the arl-apiserver replica running the Task; when that
	// replica is gone the others fail the Task instead of re-running steps.
	Runner     string
	Conditions []metav1.Condition
}

// StepResult is what one step did.
type StepResult struct {
	Name     string
	ExitCode int32
	// Signal names the signal that ended the process, if one did.
	Signal string
	// TimedOut says the Task's timeout ended the step.
	TimedOut bool
	// PID is the process id of a background Command.
	PID       int32
	StartTime *metav1.Time
	Duration  *metav1.Duration
	// Message explains a step that could not run (e.g. a FilePatch error).
	Message string
	// Stdout and Stderr are this step's part of the Task's status.stdout and
	// status.stderr tails (see the versioned type).
	Stdout string
	Stderr string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// TaskList is a list of Tasks.
type TaskList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []Task
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// TaskLogOptions are the query parameters of tasks/{name}/log.
type TaskLogOptions struct {
	metav1.TypeMeta
	// Follow streams output as the Task produces it, until it finishes.
	Follow bool
	// Raw serves the exact bytes the Task's commands printed, stdout and
	// stderr interleaved as produced, from the memory of the replica that
	// runs or ran it, also once the Task finished (for a while).
	Raw bool
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxExecOptions are the query parameters of sandboxes/{name}/exec,
// those of pods/exec: a command run in the Sandbox, attached to the
// caller's streams, with no object stored.
type SandboxExecOptions struct {
	metav1.TypeMeta
	// Stdin attaches the caller's standard input.
	Stdin bool
	// Stdout attaches the command's standard output.
	Stdout bool
	// Stderr attaches the command's standard error (not with TTY: a
	// terminal has one output).
	Stderr bool
	// TTY runs the command on a terminal the caller can resize.
	TTY bool
	// Command is the argv; empty with TTY: the sandbox's shell.
	Command []string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxProcessList is the answer of sandboxes/{name}/processes: the
// background processes the Sandbox's agent tracks.
type SandboxProcessList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []SandboxProcess
}

// SandboxProcess is one process started in a Sandbox.
type SandboxProcess struct {
	PID        int32
	Tag        string
	Command    []string
	State      string
	Background bool
	ExitCode   *int32
	Signal     string
	StartTime  *metav1.Time
	// LogTail is the end of a background process's output.
	LogTail string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxSignal is the body and answer of sandboxes/{name}/signal.
type SandboxSignal struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	// PID or Tag picks the process (a PID a Task reported, or a tag).
	PID int32
	Tag string
	// Signal is a name (SIGTERM, TERM, term) or a number; default SIGTERM.
	Signal string
	// ProcessOnly signals the process alone, not its process group.
	ProcessOnly bool

	Status SandboxSignalStatus
}

// SandboxSignalStatus is what the signal reached.
type SandboxSignalStatus struct {
	PID          int32
	Signal       string
	ProcessGroup bool
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxReset is the body and answer of sandboxes/{name}/reset.
type SandboxReset struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	// PreserveFiles kills processes but keeps the workspace.
	PreserveFiles bool

	Status SandboxResetStatus
}

// SandboxResetStatus is what the reset killed and removed.
type SandboxResetStatus struct {
	Killed  []SandboxProcess
	Removed []string
}

// Views of GET sandboxes/{name}/files.
const (
	SandboxFileViewContent = "content"
	SandboxFileViewStat    = "stat"
	SandboxFileViewList    = "list"
)

// Types of a SandboxFile.
const (
	SandboxFileTypeFile      = "File"
	SandboxFileTypeDirectory = "Directory"
	SandboxFileTypeSymlink   = "Symlink"
	SandboxFileTypeOther     = "Other"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxFileOptions are the query parameters of sandboxes/{name}/files:
// GET reads (content, stat or list), PUT writes the body atomically, POST
// makes a directory, DELETE removes.
type SandboxFileOptions struct {
	metav1.TypeMeta
	// Path is absolute or relative to the workspace.
	Path string
	// View is what GET answers: content (default), stat or list.
	View string
	// Depth is how many levels a list descends (default 1).
	Depth int64
	// Offset and Length pick a range of the content (Length 0: to the end).
	Offset int64
	Length int64
	// Mode is the permission bits a PUT or POST sets (0: the default).
	Mode int64
	// Parents creates missing parent directories (PUT, POST).
	Parents bool
	// Recursive removes a directory with its contents (DELETE).
	Recursive bool
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxArchiveOptions are the query parameters of sandboxes/{name}/archive:
// GET answers a tar of Path, PUT extracts a tar into the directory Path.
type SandboxArchiveOptions struct {
	metav1.TypeMeta
	Path string
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// SandboxFileList is the answer of sandboxes/{name}/files for a stat (one
// item), a list (the entries), a write or a mkdir (what was made).
type SandboxFileList struct {
	metav1.TypeMeta
	metav1.ListMeta

	Items []SandboxFile
	// Truncated says a list stopped at the agent's limit.
	Truncated bool
}

// SandboxFile describes a path in a Sandbox.
type SandboxFile struct {
	Path       string
	Type       string
	Size       int64
	Mode       int32
	ModTime    *metav1.Time
	LinkTarget string
}

"""Typed shapes of the arl.infra.io/v1alpha1 objects the SDK sends and returns.

They are TypedDicts, not classes with behaviour: every result is the JSON the
server answered, unchanged, so the manual's ``result['status']['stdout']``
works, nothing is lost when the server adds a field, and a type checker still
knows the names. ``kubectl explain task.status`` (and friends) is the
authoritative field list; these mirror it.

Keys that the server may omit are in the ``total=False`` classes.
"""

from typing import Dict, List, Literal, TypedDict

GROUP = "arl.infra.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

TaskState = Literal["Pending", "Running", "Succeeded", "Failed"]
SandboxPhase = Literal["Pending", "Ready", "Failed", "Terminating"]


class ObjectMeta(TypedDict, total=False):
    name: str
    namespace: str
    uid: str
    resourceVersion: str
    generation: int
    creationTimestamp: str
    deletionTimestamp: str
    labels: Dict[str, str]
    annotations: Dict[str, str]


class Condition(TypedDict, total=False):
    type: str
    status: str
    reason: str
    message: str
    lastTransitionTime: str
    observedGeneration: int


# --- Task -----------------------------------------------------------------

class _StepBase(TypedDict):
    name: str
    type: Literal["Command", "FilePatch"]


class CommandStep(_StepBase, total=False):
    """``{"name", "type": "Command", "command": [...], "workDir", "env", "background"}``."""
    command: List[str]
    workDir: str
    env: Dict[str, str]
    background: bool


class FilePatchStep(_StepBase, total=False):
    """``{"name", "type": "FilePatch", "path", "content", "mode"}``."""
    path: str
    content: str
    mode: int


Step = Dict[str, object]
"""A step as the manual writes it: a plain dict (CommandStep or FilePatchStep)."""


class TaskSpec(TypedDict, total=False):
    sandboxRef: str
    steps: List[Step]
    timeout: str
    retries: int
    ttlSecondsAfterFinished: int


class StepResult(TypedDict, total=False):
    """One step's outcome in ``status.steps``; ``pid`` is set for background steps."""
    name: str
    exitCode: int
    signal: str
    timedOut: bool
    pid: int
    startTime: str
    duration: str
    message: str
    stdout: str  # this step's part of status.stdout (within the same cap)
    stderr: str


class TaskStatus(TypedDict, total=False):
    state: TaskState
    exitCode: int
    stdout: str
    stderr: str
    stdoutTruncated: bool
    stderrTruncated: bool
    steps: List[StepResult]
    attempts: int
    startTime: str
    completionTime: str
    duration: str
    runner: str
    conditions: List[Condition]


class Task(TypedDict, total=False):
    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: TaskSpec
    status: TaskStatus


# --- Sandbox --------------------------------------------------------------

class ResourceRequirements(TypedDict, total=False):
    """A Sandbox's ``spec.resources``: cpu and memory quantities
    (``{"limits": {"memory": "1Gi"}}``) over its pool's template."""
    requests: Dict[str, str]
    limits: Dict[str, str]


class SandboxSpec(TypedDict, total=False):
    poolRef: str
    keepAlive: bool
    idleTimeoutSeconds: int
    maxLifetimeSeconds: int
    resources: ResourceRequirements


class SandboxStatus(TypedDict, total=False):
    phase: SandboxPhase
    podName: str
    podUID: str
    podIP: str
    nodeName: str
    workDir: str
    boundTime: str
    bindDuration: str
    lastActivityTime: str
    observedGeneration: int
    conditions: List[Condition]


class Sandbox(TypedDict, total=False):
    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: SandboxSpec
    status: SandboxStatus


class Process(TypedDict, total=False):
    """One entry of ``sandboxes/{name}/processes``."""
    pid: int
    tag: str
    command: List[str]
    state: str
    background: bool
    exitCode: int
    signal: str
    startTime: str
    logTail: str


class SignalStatus(TypedDict, total=False):
    """What ``sandboxes/{name}/signal`` reached."""
    pid: int
    signal: str
    processGroup: bool


class ResetStatus(TypedDict, total=False):
    """What ``sandboxes/{name}/reset`` killed and removed."""
    killed: List[Process]
    removed: List[str]


class FileInfo(TypedDict, total=False):
    """One path in a Sandbox, as ``sandboxes/{name}/files`` describes it
    (an item of its SandboxFileList). ``path`` is absolute and clean;
    ``type`` is File, Directory, Symlink or Other; ``mode`` the permission
    bits as an int (``0o644``); ``modTime`` RFC 3339."""
    path: str
    type: Literal["File", "Directory", "Symlink", "Other"]
    size: int
    mode: int
    modTime: str
    linkTarget: str


# --- WarmPool -------------------------------------------------------------

class WarmPoolSpec(TypedDict, total=False):
    replicas: int
    template: Dict[str, object]
    reusePolicy: Literal["Delete", "Reset"]


class WarmPoolBinds(TypedDict, total=False):
    """A pool's last binds (``status.recentBinds``): ``p50``, ``p99`` are
    durations as Kubernetes writes them (``"12ms"``, ``"1.5s"``)."""
    count: int
    waited: int
    p50: str
    p99: str


class WarmPoolStatus(TypedDict, total=False):
    replicas: int
    readyReplicas: int
    allocatedReplicas: int
    observedGeneration: int
    recentBinds: WarmPoolBinds
    conditions: List[Condition]


class WarmPool(TypedDict, total=False):
    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: WarmPoolSpec
    status: WarmPoolStatus


class ScaleSpec(TypedDict, total=False):
    replicas: int


class ScaleStatus(TypedDict, total=False):
    replicas: int
    selector: str


class Scale(TypedDict, total=False):
    """autoscaling/v1 Scale, the WarmPool's ``scale`` subresource."""
    apiVersion: str
    kind: str
    metadata: ObjectMeta
    spec: ScaleSpec
    status: ScaleStatus

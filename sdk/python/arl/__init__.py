"""ARL's Python SDK: sandboxes for AI agents and RL rollouts, over the
arl.infra.io/v1alpha1 API, through the official Kubernetes Python client.

    from arl import SandboxSession

    with SandboxSession("python-pool", namespace="default") as session:
        result = session.execute([
            {"name": "run", "type": "Command", "command": ["python", "-c", "print('hi')"]},
        ])
        print(result["status"]["stdout"])

``sdk/python/README.md`` is the reference.
"""

from .aio import AsyncSandboxFiles, AsyncSandboxSession, AsyncShell, AsyncTaskStream
from .client import ArlClient, default_api_client, load_api_client
from .commands import ExecResult
from .errors import (ApiError, Cause, ConflictError, ExecTimeoutError, InvalidError, NotFoundError,
                     SandboxError, SandboxFileNotFoundError, SandboxTimeoutError, TaskError, TaskTimeoutError,
                     UnsafeArchiveError)
from .files import FileListing, SandboxFiles
from .pools import WarmPoolManager, pod_template
from .session import SandboxSession
from .shell import Shell
from .streaming import TaskStream
from .types import (CommandStep, Condition, FileInfo, FilePatchStep, Process, ResetStatus, ResourceRequirements,
                    Sandbox, Scale, SignalStatus, Step, StepResult, Task, TaskStatus, WarmPool)

__version__ = "0.1.0"

__all__ = [
    "SandboxSession", "AsyncSandboxSession", "TaskStream", "AsyncTaskStream", "WarmPoolManager",
    "pod_template", "ArlClient", "default_api_client", "load_api_client",
    "ExecResult", "Shell", "AsyncShell", "SandboxFiles", "AsyncSandboxFiles", "FileListing",
    "ApiError", "Cause", "ConflictError", "ExecTimeoutError", "InvalidError", "NotFoundError", "SandboxError",
    "SandboxFileNotFoundError", "SandboxTimeoutError", "TaskError", "TaskTimeoutError", "UnsafeArchiveError",
    "CommandStep", "Condition", "FileInfo", "FilePatchStep", "Process", "ResetStatus", "ResourceRequirements",
    "Sandbox", "Scale", "SignalStatus", "Step", "StepResult", "Task", "TaskStatus", "WarmPool",
]

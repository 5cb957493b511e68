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

from .aio import AsyncSandboxSession, AsyncTaskStream
from .client import ArlClient, default_api_client, load_api_client
from .errors import (ApiError, Cause, ConflictError, InvalidError, NotFoundError, SandboxError,
                     SandboxTimeoutError, TaskError, TaskTimeoutError)
from .pools import WarmPoolManager, pod_template
from .session import SandboxSession
from .streaming import TaskStream
from .types import (CommandStep, Condition, FilePatchStep, Process, ResetStatus, ResourceRequirements, Sandbox,
                    Scale, SignalStatus, Step, StepResult, Task, TaskStatus, WarmPool)

__version__ = "0.1.0"

__all__ = [
    "SandboxSession", "AsyncSandboxSession", "TaskStream", "AsyncTaskStream", "WarmPoolManager",
    "pod_template", "ArlClient", "default_api_client", "load_api_client",
    "ApiError", "Cause", "ConflictError", "InvalidError", "NotFoundError", "SandboxError",
    "SandboxTimeoutError", "TaskError", "TaskTimeoutError",
    "CommandStep", "Condition", "FilePatchStep", "Process", "ResetStatus", "ResourceRequirements", "Sandbox",
    "Scale", "SignalStatus", "Step", "StepResult", "Task", "TaskStatus", "WarmPool",
]

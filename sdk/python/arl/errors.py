"""The SDK's error contract, as the manual writes it.

- A Task that times out raises ``TimeoutError`` (``TaskTimeoutError``).
- A Task that could not run (its Sandbox vanished, the agent was unreachable,
  the runner was lost, ...) raises ``RuntimeError`` (``TaskError``) with the
  server's message. A Task whose command merely exited non-zero is *not* an
  error: it is returned with ``status.state == "Failed"``, as the manual shows.
- A request the server refuses raises ``ApiError``, a Kubernetes
  ``ApiException`` whose message is the server's and names the offending
  fields (``spec.steps[0].command: Required value``); invalid input is
  ``InvalidError``, also a ``ValueError``.

Every exception keeps the object it is about (``task``, ``sandbox``) so the
caller can read stdout, stderr and conditions without another request.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

from kubernetes.client.rest import ApiException

from .types import Sandbox, Task


class Cause(NamedTuple):
    """One entry of a Status's ``details.causes``: which field, and why."""
    field: str
    reason: str
    message: str


class ApiError(ApiException):
    """The server refused a request; ``str()`` is its message with field paths.

    It is an ``ApiException``, so ``except ApiException`` and ``e.status``,
    ``e.reason``, ``e.body``, ``e.headers`` keep working.
    """

    def __init__(self, original: ApiException):
        super().__init__(status=original.status, reason=original.reason)
        self.body = original.body
        self.headers = original.headers
        status = _status_body(original.body)
        self.status_object: Dict[str, Any] = status
        self.message: str = status.get("message") or str(original.reason or "")
        details = status.get("details") or {}
        self.causes: List[Cause] = [
            Cause(c.get("field", ""), c.get("reason", ""), c.get("message", ""))
            for c in details.get("causes") or []
        ]

    @property
    def fields(self) -> List[str]:
        """The field paths the server named, e.g. ``["spec.steps[0].command"]``."""
        return [c.field for c in self.causes if c.field]

    def __str__(self) -> str:
        text = f"{self.status} {self.reason}: {self.message}"
        # The message usually lists the causes already; add the ones it lacks.
        missing = [c for c in self.causes if c.field and c.field not in self.message]
        for c in missing:
            text += f"\n  {c.field}: {c.message}"
        return text


class InvalidError(ApiError, ValueError):
    """422: the object is invalid; ``fields`` names what to fix."""


class NotFoundError(ApiError, LookupError):
    """404: the object (or, for a signal, the process) does not exist."""


class ConflictError(ApiError):
    """409: the name is taken by a different object."""


def wrap_api_exception(e: ApiException) -> ApiError:
    """The typed ApiError for a server's refusal (kept as is when already one)."""
    if isinstance(e, ApiError):
        return e
    cls = {422: InvalidError, 404: NotFoundError, 409: ConflictError}.get(e.status or 0, ApiError)
    return cls(e)


def _status_body(body: Any) -> Dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not body:
        return {}
    try:
        obj = json.loads(body)
    except ValueError:
        return {"message": str(body).strip()}
    return obj if isinstance(obj, dict) else {}


# --- Task outcomes ----------------------------------------------------------

def condition(obj: Mapping[str, Any], kind: str) -> Tuple[str, str]:
    """(reason, message) of the object's condition of that type, or empty strings."""
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c.get("reason", ""), c.get("message", "")
    return "", ""


def _reason_and_message(task: Task) -> Tuple[str, str]:
    return condition(task, "Complete")  # type: ignore[arg-type]


class TaskError(RuntimeError):
    """The Task could not run to completion; ``reason`` is the server's
    (SandboxNotFound, SandboxFailed, AgentUnreachable, Canceled, RunnerLost).

    The session's helpers (``write_file``, ``read_file``, ``start_process``)
    also raise it when their step failed, with the step's stderr in the message.
    """

    def __init__(self, task: Task, message: Optional[str] = None):
        self.task = task
        self.reason, self.message = _reason_and_message(task)
        if message is None and self.reason == "StepFailed":
            stderr = ((task.get("status") or {}).get("stderr") or "").strip()
            message = f"{self.message}: {stderr}" if stderr else None
        if message is not None:
            self.message = message
        name = (task.get("metadata") or {}).get("name", "?")
        super().__init__(f"task {name}: {self.reason}: {self.message}")


class TaskTimeoutError(TimeoutError):
    """The Task ran past ``spec.timeout`` (on its last attempt)."""

    def __init__(self, task: Task):
        self.task = task
        self.reason, self.message = _reason_and_message(task)
        name = (task.get("metadata") or {}).get("name", "?")
        super().__init__(f"task {name} timed out: {self.message}")


#: Complete-condition reasons that are results, not errors.
RESULT_REASONS = frozenset({"Succeeded", "StepFailed"})


def check_task(task: Task) -> Task:
    """Returns a finished Task, or raises what the manual promises for it."""
    reason, _ = _reason_and_message(task)
    if reason == "TimedOut":
        raise TaskTimeoutError(task)
    if reason and reason not in RESULT_REASONS:
        raise TaskError(task)
    return task


# --- Sandbox outcomes -------------------------------------------------------

class SandboxError(RuntimeError):
    """The Sandbox did not become Ready: it Failed, was deleted, or its pool
    does not exist. ``reason`` is the Ready condition's reason."""

    def __init__(self, message: str, sandbox: Optional[Sandbox] = None, reason: str = ""):
        super().__init__(message)
        self.sandbox = sandbox
        self.reason = reason


class SandboxTimeoutError(TimeoutError):
    """The Sandbox was not Ready within the session's ``timeout``."""

    def __init__(self, message: str, sandbox: Optional[Sandbox] = None):
        super().__init__(message)
        self.sandbox = sandbox

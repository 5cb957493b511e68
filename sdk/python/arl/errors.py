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

- ``run()`` (``sandboxes/{name}/exec``) returns a non-zero exit as a result
  too; it raises ``ExecTimeoutError`` (a ``TimeoutError``) past its
  ``timeout``, and ``ApiError`` when the server refuses the command or the
  agent fails midway (the Status the stream ends with).
- ``files`` (``sandboxes/{name}/files`` and ``/archive``) raise ``ApiError``
  by status: a missing path is ``SandboxFileNotFoundError``, both a
  ``NotFoundError`` and a ``FileNotFoundError``; a bad path (``..``) is
  ``InvalidError``; a wrong type, a non-empty directory or an existing path
  is ``ConflictError``. An archive from the sandbox that would write outside
  the local directory raises ``UnsafeArchiveError``.

Every exception keeps the object it is about (``task``, ``sandbox``) so the
caller can read stdout, stderr and conditions without another request.
"""

from __future__ import annotations

import errno
import json
import tarfile
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


class SandboxFileNotFoundError(NotFoundError, FileNotFoundError):
    """404 from ``sandboxes/{name}/files`` or ``/archive``: no such path in
    the Sandbox. Also a ``FileNotFoundError`` (``errno`` ENOENT, ``filename``
    the path); a missing Sandbox stays a plain ``NotFoundError``."""


def wrap_api_exception(e: ApiException) -> ApiError:
    """The typed ApiError for a server's refusal (kept as is when already one)."""
    if isinstance(e, ApiError):
        return e
    cls = {422: InvalidError, 404: NotFoundError, 409: ConflictError}.get(e.status or 0, ApiError)
    return cls(e)


def wrap_file_exception(e: ApiException, path: str) -> ApiError:
    """``wrap_api_exception`` for a request about a path in a Sandbox: a 404
    about the path (not about the Sandbox) is a ``SandboxFileNotFoundError``."""
    err = wrap_api_exception(e)
    if type(err) is NotFoundError and (err.status_object.get("details") or {}).get("kind") == "sandboxes/files":
        found = SandboxFileNotFoundError(e)
        found.errno, found.strerror, found.filename = errno.ENOENT, found.message, path
        return found
    return err


def status_error(status: Mapping[str, Any]) -> ApiError:
    """The ApiError for a Status the server sent inside a stream (the last
    line of ``run``'s answer, the error channel of ``shell``)."""
    raw = ApiException(status=int(status.get("code") or 500), reason=str(status.get("reason") or "Failure"))
    raw.body = json.dumps(dict(status))
    return wrap_api_exception(raw)


class ExecTimeoutError(TimeoutError):
    """``run`` (or ``Shell.wait``) went past its ``timeout``. The command was
    stopped (its connection closed, so the agent killed its process group);
    ``stdout`` and ``stderr`` are the bytes it printed until then."""

    def __init__(self, message: str, stdout: bytes = b"", stderr: bytes = b""):
        super().__init__(message)
        self.stdout = stdout
        self.stderr = stderr


class UnsafeArchiveError(tarfile.TarError, ValueError):
    """An archive from a Sandbox holds an entry that could write outside the
    directory it is extracted into (``..``, an absolute name, a link leading
    out) or that is not a file, a directory or a link (a device, a FIFO).
    Nothing of that entry or after it was extracted; ``member`` is its name."""

    def __init__(self, member: str, why: str):
        super().__init__(f"refusing the archive entry {member!r}: {why}")
        self.member = member
        self.why = why


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

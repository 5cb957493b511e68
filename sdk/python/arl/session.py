"""``SandboxSession``: one Sandbox, held for the length of a ``with`` block.

Entering creates a Sandbox from a WarmPool and returns once it is Ready: at
once when the pool had an idle pod (the create's answer already says Ready),
else when a watch sees it become Ready. Each ``execute`` is one Task run
through ``tasks/{name}/exec``: one HTTP call that answers the finished Task.
Leaving deletes the Sandbox (its pod goes back to the pool or away, by the
pool's policy) unless ``keep_alive`` is set, also when the block raised.

The Sandbox is created with ``spec.keepAlive: true`` whatever ``keep_alive``
says: on the server, ``keepAlive: false`` means "delete after the first
Task", and a session runs many. ``keep_alive`` here decides whether the
session deletes the Sandbox on exit.

Besides Tasks, a session reaches its Sandbox without storing anything:
``run`` (one command, ``sandboxes/{name}/exec`` as a plain POST), ``shell``
(a terminal over that subresource's WebSocket) and ``files``
(``sandboxes/{name}/files`` and ``/archive``).
"""

from __future__ import annotations

import errno
import itertools
import logging
import signal as _signal
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from kubernetes.client import ApiClient

from . import names
from .client import ArlClient
from .commands import Command, ExecResult, Stdin, run_command
from .errors import (ConflictError, NotFoundError, SandboxError, SandboxTimeoutError, TaskError, check_task,
                     condition)
from .files import SandboxFiles
from .shell import Shell
from .streaming import TaskStream
from .tasks import Timeout, task_body
from .types import (API_VERSION, Process, ResetStatus, ResourceRequirements, Sandbox, SignalStatus, Step, Task)
from .waiting import wait_for

#: Seconds a session waits for its Sandbox to be Ready unless told otherwise.
DEFAULT_TIMEOUT = 300.0

Signal = Union[str, int, _signal.Signals]

log = logging.getLogger("arl")


class SandboxSession:
    """A Sandbox from ``pool_ref`` for the duration of a ``with`` block.

    ``timeout`` is how many seconds entering waits for the Sandbox to be
    Ready (``SandboxTimeoutError``, a ``TimeoutError``, after that).
    ``idle_timeout_seconds`` / ``max_lifetime_seconds`` let the server delete
    a forgotten Sandbox (a kept one, or one whose process was killed).
    ``resources`` (``{"requests": {...}, "limits": {...}}``, cpu and memory)
    resize this Sandbox's pod over its pool's template (``spec.resources``).
    ``api_client`` is a ``kubernetes.client.ApiClient``; by default one is
    loaded from ``$KUBECONFIG``, ``~/.kube/config`` or the in-cluster config
    and shared by every session of the process.
    """

    def __init__(self, pool_ref: str, namespace: str = "default", keep_alive: bool = False,
                 timeout: float = DEFAULT_TIMEOUT, *, name: Optional[str] = None,
                 idle_timeout_seconds: Optional[int] = None, max_lifetime_seconds: Optional[int] = None,
                 resources: Optional[ResourceRequirements] = None, api_client: Optional[ApiClient] = None):
        self.pool_ref = pool_ref
        self.namespace = namespace
        self.keep_alive = keep_alive
        self.timeout = timeout
        self.idle_timeout_seconds = idle_timeout_seconds
        self.max_lifetime_seconds = max_lifetime_seconds
        self.resources = resources
        self._client = ArlClient(api_client)
        self._requested_name = name
        self._sandbox: Optional[Sandbox] = None
        self._name: Optional[str] = None  # kept after close, for messages and logs
        self._owned = True  # False when attached: exit then never deletes
        self._seq = itertools.count(1)

    @classmethod
    def attach(cls, name: str, namespace: str = "default", timeout: float = DEFAULT_TIMEOUT, *,
               api_client: Optional[ApiClient] = None) -> "SandboxSession":
        """A session on an existing Sandbox (e.g. one kept with ``keep_alive``),
        once it is Ready. Leaving it does not delete the Sandbox; ``delete()`` does."""
        session = cls("", namespace, keep_alive=True, timeout=timeout, api_client=api_client)
        session._owned = False
        sandbox = session._client.get(namespace, "sandboxes", name)
        session.pool_ref = sandbox.get("spec", {}).get("poolRef", "")
        session._name = name
        session._sandbox = session._wait_ready(sandbox)
        return session

    # --- lifecycle -----------------------------------------------------------

    def __enter__(self) -> "SandboxSession":
        if self._sandbox is None:
            self.open()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is None:
            self.close()
            return
        try:
            self.close()
        except Exception:
            # The block's own error is the one to see; this one is logged.
            log.warning("deleting sandbox %s after an error in the session failed", self._name, exc_info=True)

    def open(self) -> "SandboxSession":
        """Creates the Sandbox and waits until it is Ready (``with`` does this)."""
        if self._sandbox is not None:
            return self
        created = self._create()
        self._sandbox, self._name = created, created["metadata"]["name"]
        try:
            self._sandbox = self._wait_ready(created)
        except BaseException:
            # Also on KeyboardInterrupt: a Sandbox nobody will use holds a pod.
            self._delete_quietly()
            raise
        return self

    def close(self) -> None:
        """Deletes the Sandbox unless ``keep_alive`` (or attached); idempotent."""
        if self._sandbox is not None and self._owned and not self.keep_alive:
            self.delete()

    def delete(self) -> None:
        """Deletes the Sandbox now (already gone is fine)."""
        if self._sandbox is None:
            return
        self._client.delete(self.namespace, "sandboxes", self._sandbox["metadata"]["name"])
        self._sandbox = None

    def _delete_quietly(self) -> None:
        try:
            self.delete()
        except Exception:  # the original error matters more
            self._sandbox = None

    def _create(self) -> Sandbox:
        spec: Dict[str, Any] = {"poolRef": self.pool_ref, "keepAlive": True}
        if self.idle_timeout_seconds is not None:
            spec["idleTimeoutSeconds"] = self.idle_timeout_seconds
        if self.max_lifetime_seconds is not None:
            spec["maxLifetimeSeconds"] = self.max_lifetime_seconds
        if self.resources:
            spec["resources"] = self.resources
        for _ in range(3):
            name = self._requested_name or names.sandbox_name(self.pool_ref)
            body = {"apiVersion": API_VERSION, "kind": "Sandbox", "metadata": {"name": name}, "spec": spec}
            try:
                return self._client.create(self.namespace, "sandboxes", body)  # type: ignore[return-value]
            except ConflictError:
                if self._requested_name:
                    raise
        raise SandboxError(f"three random Sandbox names for pool {self.pool_ref!r} were taken")

    def _wait_ready(self, sandbox: Sandbox) -> Sandbox:
        """The Sandbox once Ready, watched from the given state."""
        name = sandbox["metadata"]["name"]
        pool_checked = False

        def ready(obj: Dict[str, Any], deleted: bool) -> bool:
            nonlocal pool_checked
            status = obj.get("status") or {}
            phase = status.get("phase", "")
            reason, message = condition(obj, "Ready")
            if deleted:
                raise SandboxError(f"sandbox {name} was deleted before it was Ready", obj, "Deleted")  # type: ignore[arg-type]
            if phase == "Ready":
                return True
            if phase in ("Failed", "Terminating"):
                raise SandboxError(f"sandbox {name} is {phase}: {reason}: {message}", obj, reason)  # type: ignore[arg-type]
            if reason == "PoolNotFound" and not pool_checked:
                # The server keeps such a Sandbox Pending in case the pool is
                # created later; a session wants to know now.
                pool_checked = True
                try:
                    self._client.get(self.namespace, "warmpools", obj["spec"]["poolRef"])
                except NotFoundError:
                    raise SandboxError(f"sandbox {name}: {message}", obj, reason) from None  # type: ignore[arg-type]
            return False

        obj, ok = wait_for(self._client, self.namespace, "sandboxes", sandbox, ready,  # type: ignore[arg-type]
                           time.monotonic() + self.timeout)
        if not ok:
            reason, message = condition(obj, "Ready")
            raise SandboxTimeoutError(f"sandbox {name} not Ready after {self.timeout:g}s: {reason}: {message}",
                                      obj)  # type: ignore[arg-type]
        return obj  # type: ignore[return-value]

    # --- the Sandbox -----------------------------------------------------------

    @property
    def name(self) -> str:
        """The Sandbox's name (still readable after the session closed)."""
        if self._name is None:
            raise RuntimeError("the session has not created its Sandbox yet")
        return self._name

    @property
    def sandbox(self) -> Sandbox:
        """The Sandbox as last read (``refresh()`` reads it again)."""
        return self._require()

    @property
    def pod_name(self) -> str:
        """The pod the Sandbox holds (``kubectl exec -it POD -c executor -- bash``)."""
        return self._require().get("status", {}).get("podName", "")

    def refresh(self) -> Sandbox:
        """Reads the Sandbox again."""
        self._sandbox = self._client.get(self.namespace, "sandboxes", self._live_name())  # type: ignore[assignment]
        return self._sandbox  # type: ignore[return-value]

    def _live_name(self) -> str:
        return self._require()["metadata"]["name"]

    def _require(self) -> Sandbox:
        if self._sandbox is None:
            raise RuntimeError("the session has no Sandbox: use `with SandboxSession(...) as session` or open()")
        return self._sandbox

    # --- Tasks ---------------------------------------------------------------

    def execute(self, steps: Sequence[Step], timeout: Timeout = None, *, retries: Optional[int] = None,
                ttl_seconds_after_finished: Optional[int] = None) -> Task:
        """Runs the steps as one Task and returns it finished.

        ``timeout`` is the Task's ``spec.timeout`` per attempt ("30s", or
        seconds); none by default. A non-zero exit is a result
        (``status.state == "Failed"``); a timeout raises ``TimeoutError``,
        a Task that could not run raises ``RuntimeError``, invalid steps
        raise ``InvalidError`` naming the field.
        """
        body = self._task(steps, timeout, retries, ttl_seconds_after_finished)
        return check_task(self._client.exec_task(self.namespace, body["metadata"]["name"], body))  # type: ignore[arg-type]

    def stream(self, steps: Sequence[Step], timeout: Timeout = None, *, retries: Optional[int] = None,
               ttl_seconds_after_finished: Optional[int] = None) -> TaskStream:
        """Starts the steps as one Task; iterate the result for its output
        (stdout and stderr as printed) while it runs. After the loop,
        ``.result`` is the finished Task (the same errors as ``execute``)."""
        body = self._task(steps, timeout, retries, ttl_seconds_after_finished)
        return TaskStream(self._client, self.namespace, body)

    def _task(self, steps: Sequence[Step], timeout: Timeout, retries: Optional[int],
              ttl: Optional[int]) -> Task:
        sandbox = self._live_name()
        return task_body(names.task_name(sandbox, next(self._seq)), sandbox, steps, timeout, retries, ttl)

    # --- commands without Tasks ---------------------------------------------------

    def run(self, cmd: Command, *, stdin: Stdin = None, timeout: Optional[float] = None) -> ExecResult:
        """Runs one command in the Sandbox and returns how it ended, through
        ``sandboxes/{name}/exec``: one HTTP call, no Task stored.

        ``cmd`` is an argv (``["python", "-c", "print(1)"]``) or a shell
        command line (a str, run by ``sh -c``). ``stdin`` (bytes, text or a
        file-like object, up to 16 MiB) is the command's standard input.
        The result has ``stdout``/``stderr`` (text), ``stdout_bytes``/
        ``stderr_bytes``, ``exit_code`` and ``signal``; a non-zero exit is a
        result, not an exception. ``timeout`` (seconds) stops the command
        and raises ``ExecTimeoutError`` (a ``TimeoutError``). A refused
        command raises ``ApiError`` (``NotFoundError``: no such Sandbox,
        ``ConflictError``: not Ready, ``InvalidError``: a bad argv).
        """
        return run_command(self._client, self.namespace, self._live_name(), cmd, stdin=stdin, timeout=timeout)

    def shell(self, command: Optional[Sequence[str]] = None, *, rows: Optional[int] = None,
              cols: Optional[int] = None) -> Shell:
        """An interactive terminal in the Sandbox: ``command`` (default: the
        Sandbox's shell) on a PTY of ``rows`` x ``cols`` (default 24 x 80; the
        size is a resize sent once connected, so a command that reads it the
        moment it starts may see 24 x 80), over ``sandboxes/{name}/exec``'s
        WebSocket. See ``arl.shell.Shell``:
        ``write``, ``read``, ``read_until``, ``resize``, ``wait``,
        ``exit_code``, ``close``; use it with ``with``."""
        return Shell(self._client, self.namespace, self._live_name(), command, rows, cols)

    @property
    def files(self) -> SandboxFiles:
        """The Sandbox's files through ``sandboxes/{name}/files`` and
        ``/archive``: ``read``, ``read_text``, ``read_into``, ``write``,
        ``stat``, ``exists``, ``list``, ``mkdir``, ``remove``, ``upload``,
        ``download`` (see ``arl.files.SandboxFiles``)."""
        return SandboxFiles(self._client, self.namespace, self._live_name)

    # --- files through Tasks ----------------------------------------------------

    def write_file(self, path: str, content: str, mode: Optional[int] = None) -> Task:
        """Writes a text file in the Sandbox (a FilePatch step); raises
        ``TaskError`` when it cannot."""
        step: Dict[str, Any] = {"name": "write", "type": "FilePatch", "path": path, "content": content}
        if mode is not None:
            step["mode"] = mode
        task = self.execute([step])
        if task["status"].get("state") != "Succeeded":
            raise TaskError(task)
        return task

    def read_file(self, path: str) -> str:
        """A text file's content, read by ``cat`` in the Sandbox.

        ``FileNotFoundError`` when it does not exist. Text only (invalid
        UTF-8 comes back replaced), and no bigger than the output a Task
        keeps in ``status.stdout`` (128 KiB by default): a larger file raises
        rather than return its tail.
        """
        task = self.execute([
            {"name": "exists", "type": "Command", "command": ["test", "-e", path]},
            {"name": "read", "type": "Command", "command": ["cat", "--", path]},
        ])
        status = task["status"]
        if status.get("state") != "Succeeded":
            steps = status.get("steps") or []
            if len(steps) == 1 and steps[0].get("exitCode") == 1:
                raise FileNotFoundError(errno.ENOENT, f"no such file in sandbox {self.name}", path)
            raise TaskError(task)
        if status.get("stdoutTruncated"):
            raise TaskError(task, f"{path} is larger than the output a Task keeps "
                                  "(status.stdout holds only its tail); read it with stream()")
        return status.get("stdout", "")

    # --- host mode ---------------------------------------------------------------

    def start_process(self, command: Sequence[str], *, env: Optional[Mapping[str, str]] = None,
                      work_dir: Optional[str] = None) -> int:
        """Starts a background process (a background Command step) and
        returns its PID, for ``signal``. The Task finishes once it started."""
        step: Dict[str, Any] = {"name": "start", "type": "Command", "command": list(command), "background": True}
        if env:
            step["env"] = dict(env)
        if work_dir:
            step["workDir"] = work_dir
        task = self.execute([step])
        steps = task["status"].get("steps") or []
        if task["status"].get("state") != "Succeeded" or not steps or not steps[0].get("pid"):
            raise TaskError(task)
        return int(steps[0]["pid"])

    def list_processes(self) -> List[Process]:
        """The processes the Sandbox's agent started (background ones stay listed after they exit)."""
        path = self._client.path(self.namespace, "sandboxes", self._live_name(), "processes")
        return self._client.call("GET", path).get("items") or []

    def signal(self, pid: Optional[int] = None, signal: Signal = "SIGTERM", *, tag: Optional[str] = None,
               process_only: bool = False) -> SignalStatus:
        """Sends a signal to a process (and its process group unless
        ``process_only``). ``NotFoundError`` (a ``LookupError``) when the
        agent did not start that process."""
        if (pid is None) == (tag is None):
            raise ValueError("give exactly one of pid and tag")
        body: Dict[str, Any] = {"apiVersion": API_VERSION, "kind": "SandboxSignal",
                                "signal": _signal_name(signal), "processOnly": process_only}
        if pid is not None:
            body["pid"] = int(pid)
        else:
            body["tag"] = tag
        path = self._client.path(self.namespace, "sandboxes", self._live_name(), "signal")
        return self._client.call("POST", path, body).get("status") or {}

    def reset(self, preserve_files: bool = False) -> ResetStatus:
        """Kills every process in the Sandbox and, unless ``preserve_files``,
        empties its workspace."""
        body = {"apiVersion": API_VERSION, "kind": "SandboxReset", "preserveFiles": preserve_files}
        path = self._client.path(self.namespace, "sandboxes", self._live_name(), "reset")
        status = self._client.call("POST", path, body).get("status") or {}
        return {"killed": [], "removed": [], **status}  # the server omits empty lists


def _signal_name(sig: Signal) -> str:
    if isinstance(sig, _signal.Signals):
        return sig.name
    return str(sig)


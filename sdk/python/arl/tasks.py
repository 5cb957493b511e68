"""Task bodies: what ``execute`` and the helpers post to ``tasks/{name}/exec``."""

from __future__ import annotations

import datetime
from typing import Any, Dict, Mapping, Optional, Sequence, Union

from .types import API_VERSION, Step, Task

Timeout = Union[str, int, float, datetime.timedelta, None]


def format_timeout(timeout: Timeout) -> Optional[str]:
    """``spec.timeout`` as the server reads it: ``"30s"`` stays, 30 → ``"30s"``,
    1.5 → ``"1500ms"``, a timedelta → seconds. The server validates the rest."""
    if timeout is None or isinstance(timeout, str):
        return timeout
    if isinstance(timeout, datetime.timedelta):
        timeout = timeout.total_seconds()
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a duration string, seconds or a timedelta, not {timeout!r}")
    if float(timeout).is_integer():
        return f"{int(timeout)}s"
    return f"{round(timeout * 1000)}ms"


def task_body(name: str, sandbox: str, steps: Sequence[Step], timeout: Timeout = None,
              retries: Optional[int] = None, ttl_seconds_after_finished: Optional[int] = None,
              labels: Optional[Dict[str, str]] = None) -> Task:
    """A Task object; the steps are sent as given (the server validates them
    and names the bad field in a 422)."""
    if isinstance(steps, (Mapping, str)) or not all(isinstance(s, Mapping) for s in steps):
        raise TypeError("steps must be a list of step dicts, e.g. "
                        "[{'name': 'run', 'type': 'Command', 'command': ['true']}]")
    spec: Dict[str, Any] = {"sandboxRef": sandbox, "steps": [dict(s) for s in steps]}
    t = format_timeout(timeout)
    if t is not None:
        spec["timeout"] = t
    if retries is not None:
        spec["retries"] = retries
    if ttl_seconds_after_finished is not None:
        spec["ttlSecondsAfterFinished"] = ttl_seconds_after_finished
    metadata: Dict[str, Any] = {"name": name}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": API_VERSION, "kind": "Task", "metadata": metadata, "spec": spec}  # type: ignore[typeddict-item]

"""``TaskStream``: a Task's output as it is produced.

The Task is created at once (a plain create answers promptly and the server
runs it); iterating follows ``tasks/{name}/log?follow=true``, which streams
stdout and stderr as the commands print them and ends when the Task
finishes. The finished Task is then read with a body-less
``tasks/{name}/exec``, which awaits the stored Task, and checked like
``execute``'s result.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from .client import ArlClient, iter_text
from .errors import check_task
from .types import Task


class TaskStream:
    """Iterate for text chunks; then ``result`` is the finished Task.

    Leaving the loop early (``break``, ``close()``) stops reading but not the
    Task, which runs on in the Sandbox.
    """

    def __init__(self, client: ArlClient, namespace: str, body: Task):
        self._client = client
        self.namespace = namespace
        self.task: Task = client.create(namespace, "tasks", body)  # type: ignore[arg-type,assignment]
        self.name: str = self.task["metadata"]["name"]
        self._result: Optional[Task] = None
        self._response: Any = None

    def __iter__(self) -> Iterator[str]:
        path = self._client.path(self.namespace, "tasks", self.name, "log")
        self._response = self._client.open_stream(path, [("follow", "true")])
        try:
            yield from iter_text(self._response)
        finally:
            self._response = None
        self._result = self._finish()

    def _finish(self) -> Task:
        return check_task(self._client.exec_task(self.namespace, self.name))  # type: ignore[arg-type]

    @property
    def result(self) -> Task:
        """The finished Task, once the output has been read to its end."""
        if self._result is None:
            raise RuntimeError(f"task {self.name} has not been read to its end: iterate the stream or call wait()")
        return self._result

    def wait(self) -> Task:
        """Reads (and discards) the rest of the output; the finished Task."""
        if self._result is None:
            for _ in self:
                pass
        return self.result

    def close(self) -> None:
        """Stops reading the output (the Task runs on)."""
        if self._response is not None:
            self._response.close()
            self._response.release_conn()
            self._response = None

    def __enter__(self) -> "TaskStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

"""``AsyncSandboxSession``: the session for asyncio programs.

The official Kubernetes client is synchronous, and the SDK depends on nothing
else, so each blocking call runs in a thread of a shared pool while the event
loop goes on. That is what an asyncio rollout loop needs: hundreds of
sessions in flight, each waiting on its own HTTP call (the time goes to the
sandboxes, not to Python). The pool is sized for that (``MAX_WORKERS``);
pass ``executor=`` to use your own.

Cancelling a coroutine stops the waiting, not the work: a Task keeps running
in its Sandbox, and a session whose creation was cancelled is deleted as
soon as the creation returns.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import os
import threading
from typing import IO, Any, Callable, Iterator, List, Mapping, Optional, Sequence, TypeVar, Union

from kubernetes.client import ApiClient

from .commands import Command, ExecResult, Stdin
from .files import Data, FileListing, SandboxFiles
from .session import DEFAULT_TIMEOUT, SandboxSession, Signal
from .shell import Shell
from .streaming import TaskStream
from .tasks import Timeout
from .types import FileInfo, Process, ResetStatus, ResourceRequirements, Sandbox, SignalStatus, Step, Task

#: Threads of the shared pool: one per blocking call in flight.
MAX_WORKERS = 256

T = TypeVar("T")

_lock = threading.Lock()
_executor: Optional[concurrent.futures.ThreadPoolExecutor] = None


def default_executor() -> concurrent.futures.ThreadPoolExecutor:
    """The shared thread pool (threads start on demand, up to MAX_WORKERS).

    asyncio's own default pool has min(32, CPUs + 4) threads: 6 on a
    2-CPU machine, which would run 16 sessions six at a time.
    """
    global _executor
    with _lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="arl-aio")
        return _executor


class AsyncSandboxSession:
    """``SandboxSession`` with ``async with`` and awaitable methods.

    The arguments are ``SandboxSession``'s, plus ``executor``.
    """

    def __init__(self, pool_ref: str, namespace: str = "default", keep_alive: bool = False,
                 timeout: float = DEFAULT_TIMEOUT, *, name: Optional[str] = None,
                 idle_timeout_seconds: Optional[int] = None, max_lifetime_seconds: Optional[int] = None,
                 resources: Optional[ResourceRequirements] = None, api_client: Optional[ApiClient] = None,
                 executor: Optional[concurrent.futures.Executor] = None):
        self.session = SandboxSession(pool_ref, namespace, keep_alive, timeout, name=name,
                                      idle_timeout_seconds=idle_timeout_seconds,
                                      max_lifetime_seconds=max_lifetime_seconds, resources=resources,
                                      api_client=api_client)
        self._executor = executor

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor or default_executor(), functools.partial(fn, *args, **kwargs))

    # --- lifecycle -----------------------------------------------------------

    async def __aenter__(self) -> "AsyncSandboxSession":
        await self.open()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._run(self.session.__exit__, *exc)

    async def open(self) -> "AsyncSandboxSession":
        """Creates the Sandbox and waits until it is Ready."""
        executor = self._executor or default_executor()
        opening = executor.submit(self.session.open)
        try:
            await asyncio.shield(asyncio.wrap_future(opening))
        except asyncio.CancelledError:
            # The thread cannot be stopped: delete what it creates. The
            # callback is on the thread's future, not the event loop's, so it
            # runs even when the loop is closed by then.
            def cleanup(f: "concurrent.futures.Future[Any]") -> None:
                if not f.cancelled() and f.exception() is None:
                    self.session.delete()
            opening.add_done_callback(cleanup)
            raise
        return self

    async def close(self) -> None:
        """Deletes the Sandbox unless ``keep_alive``."""
        await self._run(self.session.close)

    async def delete(self) -> None:
        """Deletes the Sandbox now."""
        await self._run(self.session.delete)

    # --- the Sandbox -------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.session.name

    @property
    def namespace(self) -> str:
        return self.session.namespace

    @property
    def sandbox(self) -> Sandbox:
        return self.session.sandbox

    @property
    def pod_name(self) -> str:
        return self.session.pod_name

    async def refresh(self) -> Sandbox:
        return await self._run(self.session.refresh)

    # --- Tasks, files, host mode (see SandboxSession) ------------------------------

    async def execute(self, steps: Sequence[Step], timeout: Timeout = None, *, retries: Optional[int] = None,
                      ttl_seconds_after_finished: Optional[int] = None) -> Task:
        return await self._run(self.session.execute, steps, timeout, retries=retries,
                               ttl_seconds_after_finished=ttl_seconds_after_finished)

    def stream(self, steps: Sequence[Step], timeout: Timeout = None, *, retries: Optional[int] = None,
               ttl_seconds_after_finished: Optional[int] = None) -> "AsyncTaskStream":
        """``async for text in session.stream(steps)``; then ``.result``."""
        start = functools.partial(self.session.stream, steps, timeout, retries=retries,
                                  ttl_seconds_after_finished=ttl_seconds_after_finished)
        return AsyncTaskStream(start, self._run)

    async def write_file(self, path: str, content: str, mode: Optional[int] = None) -> Task:
        return await self._run(self.session.write_file, path, content, mode)

    async def read_file(self, path: str) -> str:
        return await self._run(self.session.read_file, path)

    async def start_process(self, command: Sequence[str], *, env: Optional[Mapping[str, str]] = None,
                            work_dir: Optional[str] = None) -> int:
        return await self._run(self.session.start_process, command, env=env, work_dir=work_dir)

    async def list_processes(self) -> List[Process]:
        return await self._run(self.session.list_processes)

    async def signal(self, pid: Optional[int] = None, signal: Signal = "SIGTERM", *, tag: Optional[str] = None,
                     process_only: bool = False) -> SignalStatus:
        return await self._run(self.session.signal, pid, signal, tag=tag, process_only=process_only)

    async def reset(self, preserve_files: bool = False) -> ResetStatus:
        return await self._run(self.session.reset, preserve_files)

    # --- commands, terminals and files without Tasks (see SandboxSession) ----------

    async def run(self, cmd: Command, *, stdin: Stdin = None, timeout: Optional[float] = None) -> ExecResult:
        """``SandboxSession.run``: one command, its output and exit code."""
        return await self._run(self.session.run, cmd, stdin=stdin, timeout=timeout)

    async def shell(self, command: Optional[Sequence[str]] = None, *, rows: Optional[int] = None,
                    cols: Optional[int] = None) -> "AsyncShell":
        """``SandboxSession.shell``: a terminal, with awaitable methods."""
        opened = await self._run(self.session.shell, command, rows=rows, cols=cols)
        return AsyncShell(opened, self._run)

    @property
    def files(self) -> "AsyncSandboxFiles":
        """``SandboxSession.files`` with awaitable methods."""
        return AsyncSandboxFiles(self.session.files, self._run)


class AsyncSandboxFiles:
    """``SandboxFiles``' methods as coroutines (each runs in a thread)."""

    def __init__(self, files: SandboxFiles, run: Callable[..., Any]):
        self.sync = files
        self._run = run

    async def read(self, path: str, *, offset: int = 0, length: Optional[int] = None) -> bytes:
        return await self._run(self.sync.read, path, offset=offset, length=length)

    async def read_text(self, path: str, encoding: str = "utf-8", errors: str = "strict") -> str:
        return await self._run(self.sync.read_text, path, encoding, errors)

    async def read_into(self, path: str, dst: IO[bytes], *, offset: int = 0, length: Optional[int] = None) -> int:
        return await self._run(self.sync.read_into, path, dst, offset=offset, length=length)

    async def write(self, path: str, data: Data, mode: Optional[int] = None, parents: bool = False) -> FileInfo:
        return await self._run(self.sync.write, path, data, mode, parents)

    async def stat(self, path: str) -> FileInfo:
        return await self._run(self.sync.stat, path)

    async def exists(self, path: str) -> bool:
        return await self._run(self.sync.exists, path)

    async def list(self, path: str = ".", depth: int = 1) -> FileListing:
        return await self._run(self.sync.list, path, depth)

    async def mkdir(self, path: str, mode: Optional[int] = None, parents: bool = False) -> FileInfo:
        return await self._run(self.sync.mkdir, path, mode, parents)

    async def remove(self, path: str, recursive: bool = False) -> None:
        await self._run(self.sync.remove, path, recursive)

    async def upload(self, local_path: Union[str, "os.PathLike[str]"], remote_dir: str) -> str:
        return await self._run(self.sync.upload, local_path, remote_dir)

    async def download(self, remote_path: str, local_dir: Union[str, "os.PathLike[str]"]) -> List[str]:
        return await self._run(self.sync.download, remote_path, local_dir)


class AsyncShell:
    """``Shell`` with awaitable ``read``, ``read_until``, ``wait``, ``write``,
    ``resize`` and ``close``; ``async with`` closes it."""

    def __init__(self, shell: Shell, run: Callable[..., Any]):
        self.sync = shell
        self._run = run

    async def write(self, data: Union[str, bytes]) -> None:
        await self._run(self.sync.write, data)

    async def resize(self, rows: int, cols: int) -> None:
        await self._run(self.sync.resize, rows, cols)

    async def read(self, timeout: Optional[float] = None) -> str:
        return await self._run(self.sync.read, timeout)

    async def read_bytes(self, timeout: Optional[float] = None) -> bytes:
        return await self._run(self.sync.read_bytes, timeout)

    async def read_until(self, text: str, timeout: Optional[float] = None) -> str:
        return await self._run(self.sync.read_until, text, timeout)

    async def wait(self, timeout: Optional[float] = None) -> int:
        return await self._run(self.sync.wait, timeout)

    @property
    def exit_code(self) -> Optional[int]:
        return self.sync.exit_code

    async def close(self) -> None:
        await self._run(self.sync.close)

    async def __aenter__(self) -> "AsyncShell":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()


_DONE = object()


class AsyncTaskStream:
    """The Task starts at the first ``__anext__``; each chunk is read in a thread."""

    def __init__(self, start: Callable[[], TaskStream], run: Callable[..., Any]):
        self._start = start
        self._run = run
        self._stream: Optional[TaskStream] = None
        self._chunks: Optional[Iterator[str]] = None

    def __aiter__(self) -> "AsyncTaskStream":
        return self

    async def __anext__(self) -> str:
        if self._chunks is None:
            self._stream = await self._run(self._start)
            self._chunks = iter(self._stream)
        chunk = await self._run(next, self._chunks, _DONE)
        if chunk is _DONE:
            raise StopAsyncIteration
        return chunk  # type: ignore[no-any-return]

    @property
    def result(self) -> Task:
        """The finished Task, once the output was read to its end."""
        if self._stream is None:
            raise RuntimeError("the stream has not been iterated")
        return self._stream.result

    async def wait(self) -> Task:
        """Reads the rest of the output; the finished Task."""
        async for _ in self:
            pass
        if self._stream is None:  # pragma: no cover - the loop above started it
            raise RuntimeError("the stream did not start")
        return self._stream.result

    async def aclose(self) -> None:
        """Stops reading (the Task runs on)."""
        if self._stream is not None:
            await self._run(self._stream.close)

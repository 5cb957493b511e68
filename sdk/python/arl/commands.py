"""``run``: one command in a Sandbox through ``sandboxes/{name}/exec``,
without a Task.

A plain POST (no upgrade) runs the command; the answer is NDJSON, streamed
as the command prints: ``{"stdout": "<base64>"}``, ``{"stderr": "<base64>"}``,
then one last line ``{"exitCode": N, "signal": "..."}`` or ``{"error":
Status}``. Nothing is stored on the server: a run costs no etcd write, and
leaves no Task behind. The request body, when there is one, is the
command's stdin (up to 16 MiB: the agent takes it whole before the command
starts).
"""

from __future__ import annotations

import base64
import json
import socket
import time
from typing import IO, Any, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import urllib3

from .client import ArlClient, set_read_timeout
from .errors import ExecTimeoutError, status_error

#: What ``run`` takes as a command: an argv, or a shell command line.
Command = Union[str, Sequence[str]]
#: What ``run`` takes as stdin.
Stdin = Union[None, bytes, bytearray, memoryview, str, IO[bytes], IO[str]]

#: Bytes of the body read at a time, and of stdin sent per chunk.
CHUNK_BYTES = 256 << 10
#: The longest NDJSON line the client accepts (the server's lines are one
#: output chunk each, far below this): a bound on what a broken stream can
#: make the client hold.
MAX_LINE_BYTES = 64 << 20


class ExecResult:
    """How a command run by ``run`` ended: its output and exit code.

    ``stdout`` and ``stderr`` are text (UTF-8; invalid bytes become U+FFFD),
    ``stdout_bytes`` and ``stderr_bytes`` the exact bytes. ``exit_code`` is
    the command's (non-zero is a result, not an exception); ``signal`` names
    the signal that ended it, if one did (``"SIGKILL"``).
    """

    __slots__ = ("command", "stdout_bytes", "stderr_bytes", "exit_code", "signal")

    def __init__(self, command: List[str], stdout: bytes, stderr: bytes, exit_code: int, signal: str = ""):
        self.command = command
        self.stdout_bytes = stdout
        self.stderr_bytes = stderr
        self.exit_code = exit_code
        self.signal = signal

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", "replace")

    @property
    def ok(self) -> bool:
        """The command exited 0."""
        return self.exit_code == 0

    def __repr__(self) -> str:
        sig = f", signal={self.signal!r}" if self.signal else ""
        return (f"ExecResult(exit_code={self.exit_code}{sig}, stdout={_preview(self.stdout_bytes)}, "
                f"stderr={_preview(self.stderr_bytes)})")


def _preview(data: bytes, limit: int = 80) -> str:
    text = repr(data[:limit].decode("utf-8", "replace"))
    return text + ("..." if len(data) > limit else "")


def argv(cmd: Command) -> List[str]:
    """``cmd`` as an argv: a string runs through ``sh -c``."""
    if isinstance(cmd, str):
        return ["sh", "-c", cmd]
    if isinstance(cmd, (bytes, bytearray)) or not all(isinstance(a, str) for a in cmd):
        raise TypeError(f"cmd must be a str (a shell command line) or a list of str (an argv), not {cmd!r}")
    return list(cmd)


def iter_chunks(source: Union[IO[bytes], IO[str]], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """A file-like object read ``size`` at a time (a text one encoded as
    UTF-8), for a request body sent as it is read."""
    while True:
        chunk = source.read(size)
        if not chunk:
            return
        yield chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


def request_body(data: Stdin) -> Union[bytes, Iterable[bytes]]:
    """Bytes as they are, text as UTF-8, a file-like object as chunks."""
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if hasattr(data, "read"):
        return iter_chunks(data)  # type: ignore[arg-type]
    raise TypeError(f"expected bytes, str or a file-like object, not {type(data).__name__}")


def run_command(client: ArlClient, namespace: str, sandbox: str, cmd: Command, *, stdin: Stdin = None,
                timeout: Optional[float] = None,
                on_output: Optional[Callable[[str, bytes], None]] = None) -> ExecResult:
    """POSTs ``sandboxes/{sandbox}/exec`` and reads its NDJSON answer.

    ``timeout`` (seconds) bounds the whole run: past it the connection is
    closed, the server cancels the command (the agent kills its process
    group) and ``ExecTimeoutError`` is raised. ``on_output(stream, data)``,
    if given, sees each chunk as it arrives (stream ``"stdout"`` or
    ``"stderr"``).
    """
    command = argv(cmd)
    query: List[Tuple[str, str]] = [("command", a) for a in command]
    query += [("stdout", "true"), ("stderr", "true")]
    body: Union[None, bytes, Iterable[bytes]] = None
    headers = {"Accept": "application/x-ndjson, application/json, */*"}
    if stdin is not None:
        query.append(("stdin", "true"))
        body = request_body(stdin)
        headers["Content-Type"] = "application/octet-stream"
    deadline = None if timeout is None else time.monotonic() + timeout
    out, err = bytearray(), bytearray()

    def expired() -> ExecTimeoutError:
        return ExecTimeoutError(f"{command!r} ran past its timeout of {timeout:g}s in sandbox {sandbox}",
                                bytes(out), bytes(err))

    path = client.path(namespace, "sandboxes", sandbox, "exec")
    req_timeout = None if timeout is None else urllib3.Timeout(connect=timeout, read=timeout)
    try:
        response = client.request("POST", path, query, body=body if body is not None else b"",
                                  headers=headers, timeout=req_timeout)
    except (urllib3.exceptions.HTTPError, OSError) as e:
        if _timed_out(e, deadline):
            raise expired() from None
        raise
    last: Optional[dict] = None
    clean = False
    try:
        pending = bytearray()
        for chunk in _read(response, deadline):
            pending += chunk
            start = 0
            while True:
                nl = pending.find(b"\n", start)
                if nl < 0:
                    break
                line = bytes(pending[start:nl])
                start = nl + 1
                if not line.strip():
                    continue
                event = json.loads(line)
                if "stdout" in event or "stderr" in event:
                    for name, buf in (("stdout", out), ("stderr", err)):
                        if event.get(name):
                            data = base64.b64decode(event[name])
                            buf += data
                            if on_output is not None:
                                on_output(name, data)
                else:
                    last = event
            del pending[:start]
            if len(pending) > MAX_LINE_BYTES:
                raise ValueError(f"sandboxes/{sandbox}/exec sent a line longer than {MAX_LINE_BYTES} bytes")
            if deadline is not None and time.monotonic() >= deadline:
                raise expired()
        clean = True
    except (urllib3.exceptions.HTTPError, OSError) as e:
        if _timed_out(e, deadline):
            raise expired() from None
        raise
    finally:
        if not clean:
            response.close()  # cancels the command on the server
        response.release_conn()
    if last is None:
        raise ConnectionError(f"sandboxes/{sandbox}/exec ended without the command's exit code")
    if last.get("error") is not None:
        raise status_error(last["error"])
    return ExecResult(command, bytes(out), bytes(err), int(last.get("exitCode") or 0), last.get("signal") or "")


def _timed_out(e: BaseException, deadline: Optional[float]) -> bool:
    """Whether a transport error is the run's deadline passing."""
    if isinstance(e, urllib3.exceptions.MaxRetryError) and e.reason is not None:
        e = e.reason
    timeout = isinstance(e, (urllib3.exceptions.TimeoutError, socket.timeout))
    return timeout and deadline is not None and time.monotonic() >= deadline - 0.05


def _read(response: Any, deadline: Optional[float]) -> Iterator[bytes]:
    """The body as it arrives (a chunked answer chunk by chunk, as the
    server flushed it), each read waiting no longer than the deadline."""
    chunks = response.stream(CHUNK_BYTES, decode_content=True)
    while True:
        if deadline is not None:
            set_read_timeout(response, max(deadline - time.monotonic(), 0.001))
        chunk = next(chunks, None)
        if chunk is None:
            return
        if chunk:
            yield chunk

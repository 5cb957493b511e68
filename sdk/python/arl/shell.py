"""``Shell``: an interactive terminal (a PTY) in a Sandbox.

``sandboxes/{name}/exec?tty=true&stdin=true&stdout=true`` over a WebSocket
with the pods/exec channel protocol (``v4.channel.k8s.io``): channel 0
carries the keyboard, 1 the terminal's output, 3 the Status that ends the
session (its exit code), 4 the terminal's size as JSON. The connection is
made by the Kubernetes client's ``kubernetes.stream.ws_client.WSClient``
(the ApiClient's host, TLS and bearer token, as ``kubernetes.stream.stream``
uses them); the frames are read here, as bytes, so output split inside a
UTF-8 character is decoded whole.

Closing the connection hangs the terminal up (the shell gets SIGHUP).
"""

from __future__ import annotations

import codecs
import json
import select
import ssl
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from kubernetes.client.rest import ApiException
from kubernetes.stream import ws_client
from websocket import ABNF, WebSocketBadStatusException, WebSocketConnectionClosedException

from .client import _AUTH, ArlClient
from .errors import ApiError, ExecTimeoutError, status_error, wrap_api_exception

STDIN, STDOUT, STDERR, ERROR, RESIZE = range(5)
PROTOCOL = "v4.channel.k8s.io"

#: Frames read at most per ``read`` once output is there (the rest waits
#: for the next call), so one call returns promptly under a flood.
_FRAMES_PER_READ = 256


class Shell:
    """A terminal in a Sandbox. ``session.shell()`` opens one.

    - ``write(data)`` types ``data`` (str or bytes): ``"ls\\n"``, ``"\\x03"`` (Ctrl-C).
    - ``read(timeout=None)`` the output there is, as text: waits up to
      ``timeout`` seconds for some (``None``: until some arrives or the
      shell ends); ``""`` when there is none. ``read_bytes`` the same as bytes.
    - ``read_until(text, timeout)`` reads until ``text`` appeared, returns
      the output up to and including it (``TimeoutError`` otherwise).
    - ``resize(rows, cols)`` sets the terminal's size (SIGWINCH in the sandbox).
    - ``wait(timeout=None)`` waits for the shell to end; its exit code.
    - ``exit_code``: ``None`` while it runs (or when it was hung up), then
      the exit code. ``close()`` hangs up. ``with`` closes at the end.

    One reader and one writer may be different threads.
    """

    def __init__(self, client: ArlClient, namespace: str, sandbox: str, command: Optional[Sequence[str]] = None,
                 rows: Optional[int] = None, cols: Optional[int] = None):
        self.sandbox = sandbox
        self.command = list(command or [])
        path = client.path(namespace, "sandboxes", sandbox, "exec")
        query: List[Tuple[str, str]] = [("command", c) for c in self.command]
        query += [("stdin", "true"), ("stdout", "true"), ("tty", "true")]
        api = client.api_client
        headers: Dict[str, str] = {"sec-websocket-protocol": PROTOCOL}
        params = list(query)
        api.update_params_for_auth(headers, params, _AUTH)
        url = ws_client.get_websocket_url(api.configuration.host + path, params)
        try:
            self._ws = ws_client.WSClient(api.configuration, url, headers, False)
        except WebSocketBadStatusException as e:
            raise _handshake_error(client, path, query, e) from None
        self._read_lock = threading.Lock()
        self._out = bytearray()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._text = ""  # decoded output that read_until read past
        self._status = bytearray()
        self._closed = False
        self.status: Optional[Dict[str, Any]] = None  # the Status that ended the shell
        self._error: Optional[ApiError] = None
        self._exit_code: Optional[int] = None
        if rows is not None or cols is not None:
            self.resize(rows or 24, cols or 80)

    # --- input ------------------------------------------------------------------

    def write(self, data: Union[str, bytes]) -> None:
        """Types ``data`` on the terminal (text is sent as UTF-8)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        self._send(STDIN, bytes(data))

    def resize(self, rows: int, cols: int) -> None:
        """Sets the terminal's size (``stty size`` then says ``rows cols``)."""
        self._send(RESIZE, json.dumps({"Width": int(cols), "Height": int(rows)}).encode())

    def _send(self, channel: int, payload: bytes) -> None:
        if self._closed:
            raise BrokenPipeError(f"the shell in sandbox {self.sandbox} has ended")
        try:
            self._ws.sock.send(bytes([channel]) + payload, opcode=ABNF.OPCODE_BINARY)
        except (WebSocketConnectionClosedException, OSError) as e:
            raise BrokenPipeError(f"the shell in sandbox {self.sandbox} has ended: {e}") from None

    # --- output -----------------------------------------------------------------

    def read_bytes(self, timeout: Optional[float] = None) -> bytes:
        """The output there is, as bytes; waits up to ``timeout`` seconds
        for some (``None``: until some arrives or the shell ends)."""
        with self._read_lock:
            self._fill(timeout)
            pending = self._text.encode("utf-8") + self._decoder.getstate()[0] + bytes(self._out)
            self._text = ""
            self._decoder.reset()
            self._out.clear()
            return pending

    def read(self, timeout: Optional[float] = None) -> str:
        """The output there is, as text; waits up to ``timeout`` seconds for
        some (``None``: until some arrives or the shell ends)."""
        with self._read_lock:
            if not self._text:
                self._fill(timeout)
            return self._take_text()

    def read_until(self, text: str, timeout: Optional[float] = None) -> str:
        """Reads until ``text`` appears in the output; returns the output up
        to and including it (what follows stays for the next read).
        ``TimeoutError`` after ``timeout`` seconds, ``EOFError`` when the
        shell ended first; both carry what was read as ``.output``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        seen = ""
        with self._read_lock:
            while True:
                seen += self._take_text()
                i = seen.find(text)
                if i >= 0:
                    self._text = seen[i + len(text):]
                    return seen[:i + len(text)]
                err: Optional[Exception] = None
                remaining = None if deadline is None else deadline - time.monotonic()
                if self._closed:
                    err = EOFError(f"the shell ended before {text!r} appeared")
                elif remaining is not None and remaining <= 0:
                    err = TimeoutError(f"{text!r} did not appear within {timeout:g}s")
                if err is not None:
                    self._text = seen
                    err.output = seen  # type: ignore[attr-defined]
                    raise err
                self._fill(remaining)

    def _take_text(self) -> str:
        text = self._text + self._decoder.decode(bytes(self._out), final=self._closed)
        self._out.clear()
        self._text = ""
        return text

    def _fill(self, timeout: Optional[float]) -> None:
        """Reads frames until output arrived (then what else is there at
        once) or the timeout passed or the shell ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._out and not self._closed:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not self._frame(remaining):
                return
        for _ in range(_FRAMES_PER_READ):
            if self._closed or not self._frame(0):
                return

    def _frame(self, timeout: Optional[float]) -> bool:
        """Reads one frame if one comes within timeout (None: waits)."""
        sock = self._ws.sock
        if not sock or not sock.connected:
            self._end()
            return False
        raw = sock.sock
        if not (isinstance(raw, ssl.SSLSocket) and raw.pending()):
            poll = select.poll()
            poll.register(raw, select.POLLIN)
            if not poll.poll(None if timeout is None else int(timeout * 1000)):
                return False
        try:
            opcode, frame = sock.recv_data_frame(True)
        except (WebSocketConnectionClosedException, OSError):
            self._end()
            return True
        if opcode == ABNF.OPCODE_CLOSE:
            self._end()
        elif opcode in (ABNF.OPCODE_BINARY, ABNF.OPCODE_TEXT) and len(frame.data) > 1:
            channel, data = frame.data[0], frame.data[1:]
            if channel in (STDOUT, STDERR):
                self._out += data
            elif channel == ERROR:
                self._status += data
        return True

    def _end(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._ws.close()
        except Exception:  # already gone
            pass
        if not self._status:
            return
        try:
            status = json.loads(bytes(self._status))
        except ValueError:
            status = {"status": "Failure", "code": 500, "message": bytes(self._status).decode("utf-8", "replace")}
        self.status = status
        self._exit_code, self._error = exit_code_of(status)

    # --- the end --------------------------------------------------------------

    @property
    def exit_code(self) -> Optional[int]:
        """The shell's exit code once it ended; ``None`` before, or when it
        was hung up or failed (``wait()`` raises why)."""
        return self._exit_code

    @property
    def closed(self) -> bool:
        return self._closed

    def wait(self, timeout: Optional[float] = None) -> int:
        """Waits for the shell to end (its output is kept for ``read``);
        its exit code. ``ExecTimeoutError`` (a ``TimeoutError``) after
        ``timeout`` seconds, the shell still running; ``ApiError`` when the
        server ended it with an error."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._read_lock:
            while not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise ExecTimeoutError(f"the shell in sandbox {self.sandbox} still runs after {timeout:g}s")
                self._frame(remaining)
        if self._error is not None:
            raise self._error
        if self._exit_code is None:
            raise ConnectionError(f"the shell in sandbox {self.sandbox} ended without an exit code")
        return self._exit_code

    def close(self) -> None:
        """Hangs up (the shell gets SIGHUP); idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._ws.close()
        except Exception:
            pass

    def __enter__(self) -> "Shell":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def exit_code_of(status: Dict[str, Any]) -> Tuple[Optional[int], Optional[ApiError]]:
    """(exit code, error) from the Status that ends a pods/exec-style stream."""
    if status.get("status") == "Success":
        return 0, None
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if "ExitCode" in (cause.get("reason"), cause.get("type")):  # StatusCause.Type is "reason" in JSON
                try:
                    return int(cause.get("message", "")), None
                except ValueError:
                    break
    return None, status_error(status)


def _handshake_error(client: ArlClient, path: str, query: List[Tuple[str, str]],
                     e: WebSocketBadStatusException) -> ApiError:
    """The server refused the upgrade: the same request without one answers
    its Status (404, 409, 422 are decided before the upgrade)."""
    code = getattr(e, "status_code", 0) or 0
    try:
        response = client.request("GET", path, query)
        response.release_conn()
    except ApiError as refused:
        if refused.status == code:
            return refused
    except Exception:  # the probe failing says nothing more
        pass
    raw = ApiException(status=code, reason=str(e))
    return wrap_api_exception(raw)

"""How the SDK reaches arl.infra.io: the official Kubernetes Python client.

Authentication, TLS and proxies come from the kubeconfig or the in-cluster
service account, exactly as for any Kubernetes client, so the same code works
against ``make run``'s standalone server and through a cluster's aggregation
layer. Objects go through ``CustomObjectsApi``; the subresources that are not
CRUD (``tasks/{name}/exec``, ``tasks/{name}/log``, ``sandboxes/{name}/...``)
through ``ApiClient.call_api``, which applies the same auth settings.

Every ``ApiException`` leaves this module as an ``arl.errors.ApiError``.
"""

from __future__ import annotations

import codecs
import http.client
import logging
import os
import threading
import time
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple, Union
from urllib.parse import urlencode, urlsplit

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from .errors import wrap_api_exception
from .types import GROUP, VERSION

#: How long ``exec_task`` keeps reconnecting when the call is cut (the
#: connection dropped, or the aggregation layer answered 502/503/504 because
#: arl-apiserver restarted or rolled). Posting the same Task again awaits the
#: stored Task instead of running it twice, so reconnecting is safe.
EXEC_RETRY_SECONDS = 120.0
_RETRY_STATUSES = (502, 503, 504)

#: Idle connections kept per API server. With the client's default (5 per
#: CPU: 10 on 2 CPUs), a 16-session ThreadPoolExecutor has urllib3 discard
#: the connections beyond it ("Connection pool is full") and open new TLS
#: connections for the next calls.
CONNECTION_POOL_SIZE = 64

_AUTH = ["BearerToken"]

log = logging.getLogger("arl")

_lock = threading.Lock()
_defaults: Dict[Tuple[str, str], k8s.ApiClient] = {}


def load_api_client(kubeconfig: Optional[str] = None, context: Optional[str] = None) -> k8s.ApiClient:
    """A new ApiClient from a kubeconfig, else from the in-cluster config.

    The kubeconfig is ``kubeconfig``, else ``$KUBECONFIG`` (read now, not when
    the kubernetes package was imported), else ``~/.kube/config``. Inside a
    pod with none of these, the service account is used.
    """
    cfg = k8s.Configuration()
    path = kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    in_cluster = not kubeconfig and not os.environ.get("KUBECONFIG") and not os.path.exists(path) \
        and bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
    if in_cluster:
        k8s_config.load_incluster_config(client_configuration=cfg)
    else:
        k8s_config.load_kube_config(config_file=path, context=context, client_configuration=cfg)
    cfg.connection_pool_maxsize = max(cfg.connection_pool_maxsize or 0, CONNECTION_POOL_SIZE)
    return k8s.ApiClient(cfg)


def default_api_client() -> k8s.ApiClient:
    """The process-wide ApiClient, loaded once per ``$KUBECONFIG`` value.

    Sharing it lets concurrent sessions reuse TLS connections; loading a
    kubeconfig per session would also write its certificates to temp files
    each time.
    """
    key = (os.environ.get("KUBECONFIG", ""), os.environ.get("KUBERNETES_SERVICE_HOST", ""))
    with _lock:
        api = _defaults.get(key)
        if api is None:
            api = _defaults[key] = load_api_client()
        return api


class ArlClient:
    """The namespaced arl.infra.io/v1alpha1 API: objects and subresources."""

    def __init__(self, api_client: Optional[k8s.ApiClient] = None):
        self.api_client = api_client or default_api_client()
        self.custom = k8s.CustomObjectsApi(self.api_client)

    # --- objects -------------------------------------------------------------

    def create(self, namespace: str, plural: str, body: Dict[str, Any]) -> Dict[str, Any]:
        try:
            return self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body)
        except ApiException as e:
            raise wrap_api_exception(e) from None

    def get(self, namespace: str, plural: str, name: str) -> Dict[str, Any]:
        try:
            return self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
        except ApiException as e:
            raise wrap_api_exception(e) from None

    def list(self, namespace: str, plural: str, **kwargs: Any) -> Dict[str, Any]:
        """The list object (``items`` and ``metadata.resourceVersion``)."""
        try:
            return self.custom.list_namespaced_custom_object(GROUP, VERSION, namespace, plural, **kwargs)
        except ApiException as e:
            raise wrap_api_exception(e) from None

    def delete(self, namespace: str, plural: str, name: str, missing_ok: bool = True) -> None:
        try:
            self.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
        except ApiException as e:
            if not (missing_ok and e.status == 404):
                raise wrap_api_exception(e) from None

    def patch(self, namespace: str, plural: str, name: str, body: Dict[str, Any]) -> Dict[str, Any]:
        """A JSON merge patch of the main resource."""
        try:
            return self.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, plural, name, body)
        except ApiException as e:
            raise wrap_api_exception(e) from None

    def get_scale(self, namespace: str, plural: str, name: str) -> Dict[str, Any]:
        try:
            return self.custom.get_namespaced_custom_object_scale(GROUP, VERSION, namespace, plural, name)
        except ApiException as e:
            raise wrap_api_exception(e) from None

    def patch_scale(self, namespace: str, plural: str, name: str, replicas: int) -> Dict[str, Any]:
        try:
            return self.custom.patch_namespaced_custom_object_scale(
                GROUP, VERSION, namespace, plural, name, {"spec": {"replicas": replicas}})
        except ApiException as e:
            raise wrap_api_exception(e) from None

    # --- subresources --------------------------------------------------------

    def path(self, namespace: str, plural: str, name: str, subresource: str = "") -> str:
        p = f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}/{name}"
        return f"{p}/{subresource}" if subresource else p

    def call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None,
             query: Optional[List[Tuple[str, str]]] = None) -> Dict[str, Any]:
        """One JSON request to ``path``; the decoded JSON answer.

        No client-side timeout: ``tasks/{name}/exec`` answers when the Task
        finishes, which may be minutes away (the server sets no deadline
        either).
        """
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            return self.api_client.call_api(
                path, method, query_params=query or [], header_params=headers, body=body,
                response_type="object", auth_settings=_AUTH, _return_http_data_only=True)
        except ApiException as e:
            raise wrap_api_exception(e) from None

    def exec_task(self, namespace: str, name: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """POST ``tasks/{name}/exec``: runs the Task ``body`` (without a body:
        the stored Task) and answers it finished, however long that takes.

        A cut call is posted again, with the same body, until the server
        answers or ``EXEC_RETRY_SECONDS`` pass: the server then awaits the
        Task already running (or reports why it was lost, e.g. RunnerLost)
        rather than starting it again.
        """
        path = self.path(namespace, "tasks", name, "exec")
        deadline = time.monotonic() + EXEC_RETRY_SECONDS
        backoff = 0.25
        while True:
            try:
                return self.call("POST", path, body)
            except urllib3.exceptions.HTTPError as e:
                if time.monotonic() + backoff > deadline:
                    raise
                cut: Exception = e
            except ApiException as e:
                if e.status not in _RETRY_STATUSES or time.monotonic() + backoff > deadline:
                    raise
                cut = e
            log.info("tasks/%s/exec was cut (%s); posting it again in %.2fs", name, cut, backoff)
            time.sleep(backoff)  # let the server (or its next replica) come back
            backoff = min(backoff * 2, 5.0)

    def open_stream(self, path: str, query: Optional[List[Tuple[str, str]]] = None) -> Any:
        """A GET whose answer is read as it arrives: the urllib3 response.

        The caller reads it with ``.stream()`` and must ``.release_conn()``.
        Accept is ``*/*``: log subresources answer text/plain, which the
        server's content negotiation does not list.
        """
        try:
            return self.api_client.call_api(
                path, "GET", query_params=query or [], header_params={"Accept": "*/*"},
                auth_settings=_AUTH, _return_http_data_only=True, _preload_content=False)
        except ApiException as e:
            raise wrap_api_exception(e) from None

    def request(self, method: str, path: str, query: Optional[List[Tuple[str, str]]] = None, *,
                body: Union[None, bytes, Iterable[bytes]] = None, headers: Optional[Dict[str, str]] = None,
                timeout: Any = None) -> Any:
        """One request whose answer is read as it arrives: a response (2xx)
        with ``stream()``, ``data``, ``headers``, ``close()``, which the
        caller reads and must ``release_conn()``.

        What ``call_api`` does (the ApiClient's host, TLS, default headers
        and auth settings, through its rest client's connection pool), but
        ``body`` may also be an iterable of bytes: it is sent chunked as it
        is produced, never held whole, and such a request is never retried
        (the body cannot be read twice). A refusal raises the typed
        ``ApiError`` with the server's Status, also when the server answered
        before the body was sent whole (see ``_send_body``).
        """
        api = self.api_client
        hdrs: Dict[str, str] = dict(api.default_headers)
        if api.cookie:
            hdrs["Cookie"] = api.cookie
        hdrs.update(headers or {})
        hdrs.setdefault("Accept", "application/json, */*")
        params = list(query or [])
        api.update_params_for_auth(hdrs, params, _AUTH)
        url = api.configuration.host + path
        if params:
            url += "?" + urlencode(params)
        small = body is None or (isinstance(body, (bytes, bytearray, memoryview)) and len(body) <= SMALL_BODY_BYTES)
        if small or api.configuration.proxy:
            kwargs: Dict[str, Any] = {"headers": hdrs, "preload_content": False, "timeout": timeout}
            if body is not None:
                kwargs["body"] = body
                if not isinstance(body, (bytes, bytearray, memoryview)):
                    kwargs.update(chunked=True, retries=False)
            response = api.rest_client.pool_manager.urlopen(method, url, **kwargs)
        else:
            chunks = [bytes(body)] if isinstance(body, (bytes, bytearray, memoryview)) else body
            response = self._send_body(method, url, hdrs, chunks, timeout)  # type: ignore[arg-type]
        if not 200 <= response.status <= 299:
            try:
                data = response.data
            finally:
                response.release_conn()
            raw = ApiException(status=response.status, reason=response.reason)
            raw.body = data
            raw.headers = response.headers
            raise wrap_api_exception(raw)
        return response

    def _send_body(self, method: str, url: str, headers: Dict[str, str], body: Iterable[bytes],
                   timeout: Any) -> "_Response":
        """Sends a request with a body chunked on a connection of its own
        (made by the rest client's pool, with its TLS settings), and reads
        the answer even when the server gave it early.

        A server that refuses a request before it read the body (no such
        Sandbox, a bad path, a full disk) answers and closes the connection
        while the client still sends: urllib3 then reports the broken
        connection and loses the answer. Here the sending stops at the
        first error and the answer already received is read.
        """
        pool = self.api_client.rest_client.pool_manager.connection_from_url(url)
        conn = pool._new_conn()
        connect, read = _timeouts(timeout)
        conn.timeout = connect
        parsed = urlsplit(url)
        target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            if conn.sock is not None:
                conn.sock.settimeout(read)
            cut: Optional[Exception] = None
            for chunk in body:  # an error of the body's own (a local file) is raised as is
                if not chunk:
                    continue
                try:
                    conn.send(b"%x\r\n" % len(chunk) + bytes(chunk) + b"\r\n")
                except OSError as e:  # the server answered early (and closed), or the connection broke
                    cut = e
                    break
            if cut is None:
                try:
                    conn.send(b"0\r\n\r\n")
                except OSError as e:
                    cut = e
            try:
                answer = http.client.HTTPConnection.getresponse(conn)
            except (OSError, http.client.HTTPException):
                if cut is not None:
                    raise cut from None
                raise
        except BaseException:
            conn.close()
            raise
        return _Response(answer, conn)


#: Bodies up to this size go through the connection pool as they are: a Go
#: server reads (and discards) that much of a body it refused, so its
#: answer is never lost. Larger ones take ``_send_body``.
SMALL_BODY_BYTES = 256 << 10


def _timeouts(timeout: Any) -> Tuple[Optional[float], Optional[float]]:
    """(connect, read) seconds from a number, a pair or a urllib3 Timeout."""
    if timeout is None:
        return None, None
    if isinstance(timeout, (int, float)):
        return float(timeout), float(timeout)
    if isinstance(timeout, tuple):
        return timeout[0], timeout[1]
    connect, read = timeout.connect_timeout, timeout.read_timeout
    norm = lambda t: t if isinstance(t, (int, float)) else None  # noqa: E731 (urllib3's "default" sentinel)
    return norm(connect), norm(read)


class _Response:
    """An answer read from a connection of its own (``_send_body``), with
    the part of urllib3's response interface the SDK uses; releasing it
    closes the connection."""

    def __init__(self, answer: http.client.HTTPResponse, conn: Any):
        self._answer = answer
        self._connection = conn
        self.status = answer.status
        self.reason = answer.reason
        self.headers = dict(answer.getheaders())
        self._data: Optional[bytes] = None

    def stream(self, amt: int = 64 * 1024, decode_content: bool = True) -> Iterator[bytes]:
        while True:
            chunk = self._answer.read1(amt)
            if not chunk:
                return
            yield chunk

    def read(self, amt: Optional[int] = None) -> bytes:
        return self._answer.read(amt)

    @property
    def data(self) -> bytes:
        if self._data is None:
            self._data = self._answer.read()
        return self._data

    def close(self) -> None:
        self._answer.close()
        self._connection.close()

    def release_conn(self) -> None:
        self.close()


def set_read_timeout(response: Any, seconds: Optional[float]) -> None:
    """Sets how long the next reads of a streamed response wait (best
    effort: the socket of urllib3's connection)."""
    sock = getattr(getattr(response, "_connection", None), "sock", None)
    if sock is not None:
        try:
            sock.settimeout(seconds)
        except OSError:
            pass


def iter_text(response: Any) -> Iterator[str]:
    """Decodes a streamed HTTP body as UTF-8 text, chunk by chunk, as it arrives.

    A chunked answer is yielded per chunk the server flushed (urllib3 reads
    chunked bodies chunk by chunk), so output shows up while the Task runs.
    Multi-byte characters split across chunks are decoded whole.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        for data in response.stream(64 * 1024, decode_content=True):
            text = decoder.decode(data)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail
    finally:
        response.close()
        response.release_conn()

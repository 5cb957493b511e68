"""Fixtures of the SDK suite: a real ARL server and real sandboxes.

Run with Debian's pytest and python3-kubernetes:

    /usr/bin/python3 -m pytest -q sdk/python/tests

Which server:
- ``ARL_E2E_KUBECONFIG`` set: the test cluster, through kube-apiserver's
  aggregation layer (``eval "$(hack/cluster/env.sh)"``). Each test module
  gets its own namespace, deleted afterwards.
- else ``ARL_TEST_KUBECONFIG`` set: a standalone server already running
  (``make run``); the suite uses its own namespaces there and leaves the
  server alone.
- else: the suite starts ``bin/arl-apiserver --standalone`` (or
  ``$ARL_APISERVER_BIN``) on a fresh data directory and a free port, and
  at the end stops it and kills the local sandboxes it started (they outlive
  the server by design). A missing binary fails the run: ``hack/build.sh``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest

from arl import ArlClient, WarmPoolManager, load_api_client

REPO = Path(__file__).resolve().parents[3]
POOL = "python-pool"


@dataclass
class Server:
    kubeconfig: str
    kind: str  # "standalone" or "cluster"
    data_dir: Optional[Path] = None

    @property
    def cluster(self) -> bool:
        return self.kind == "cluster"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Standalone:
    """``arl-apiserver --standalone`` started by the suite (as the Go suites'
    test/integration/framework does), on its own data directory and port."""

    def __init__(self) -> None:
        self.binary = os.environ.get("ARL_APISERVER_BIN") or str(REPO / "bin" / "arl-apiserver")
        if not os.access(self.binary, os.X_OK):
            pytest.fail(f"{self.binary} is missing: run hack/build.sh (or set ARL_APISERVER_BIN)")
        self.data_dir = Path(tempfile.mkdtemp(prefix="arl-sdk-test-"))
        self.port = _free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.start()

    def start(self) -> None:
        """Starts the server (again, on the same data) and waits until it serves."""
        with open(self.data_dir / "apiserver.log", "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--standalone", "--data-dir", str(self.data_dir), "--secure-port", str(self.port)],
                stdout=subprocess.PIPE, stderr=log, text=True)
        announced: list = []
        done = threading.Event()
        proc = self.proc

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("export KUBECONFIG=") and not announced:
                    announced.append(line.split("=", 1)[1].strip())
                    done.set()
            done.set()

        threading.Thread(target=read, daemon=True).start()
        if not done.wait(90) or not announced:
            self.stop()
            pytest.fail(f"arl-apiserver did not announce its kubeconfig:\n{self.logs()}")
        self.kubeconfig = announced[0]

    def logs(self) -> str:
        return (self.data_dir / "apiserver.log").read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        """Stops the server (SIGTERM, SIGKILL after 20 s); its sandboxes live on."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def destroy(self) -> None:
        """Stops the server, kills its sandboxes, removes its data."""
        self.stop()
        self.kill_sandboxes()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def kill_sandboxes(self) -> None:
        """SIGKILLs the local sandboxes' agents, found in DIR/pods/*/*/pod.json."""
        for meta in self.data_dir.glob("pods/*/*/pod.json"):
            try:
                pid = int(json.loads(meta.read_text()).get("pid") or 0)
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if pid > 0 else b""
            except (OSError, ValueError):
                continue
            if b"arl-sidecar" in cmdline:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    e2e = os.environ.get("ARL_E2E_KUBECONFIG")
    if e2e:
        yield Server(e2e, "cluster")
        return
    reuse = os.environ.get("ARL_TEST_KUBECONFIG")
    if reuse:
        yield Server(reuse, "standalone")
        return
    # Standalone sandboxes run the host's programs with the server's PATH,
    # and the manual (so the examples and this suite) runs `python`.
    if not shutil.which("python"):
        pytest.fail("no `python` on PATH for standalone sandboxes: apt-get install python-is-python3")
    standalone = Standalone()
    try:
        yield Server(standalone.kubeconfig, "standalone", standalone.data_dir)
    finally:
        standalone.destroy()


@pytest.fixture
def private_server() -> Iterator[Standalone]:
    """A standalone server of one test's own, which it may stop and restart
    (whichever server the suite runs against)."""
    standalone = Standalone()
    try:
        yield standalone
    finally:
        standalone.destroy()


@pytest.fixture(scope="session")
def api_client(server: Server):
    return load_api_client(server.kubeconfig)


@pytest.fixture(scope="session")
def arl_api(api_client) -> ArlClient:
    return ArlClient(api_client)


def _make_namespace(server: Server, api_client) -> str:
    name = "sdk-" + secrets.token_hex(4)
    if server.cluster:
        from kubernetes import client
        client.CoreV1Api(api_client).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    # Standalone serves only arl.infra.io: any namespace name is usable.
    return name


def _drop_namespace(server: Server, api_client, arl_api: ArlClient, name: str) -> None:
    if server.cluster:
        from kubernetes import client
        client.CoreV1Api(api_client).delete_namespace(name)
        return
    for plural in ("sandboxes", "tasks", "warmpools"):
        for obj in arl_api.list(name, plural).get("items") or []:
            arl_api.delete(name, plural, obj["metadata"]["name"])


@pytest.fixture(scope="module")
def namespace(server: Server, api_client, arl_api: ArlClient) -> Iterator[str]:
    """A namespace of the module's own, with the manual's pool ``python-pool``
    (3 idle pods) Ready in it."""
    name = _make_namespace(server, api_client)
    pools = WarmPoolManager(name, api_client=api_client)
    pools.create(POOL, replicas=3)
    pools.wait_ready(POOL, timeout=600)
    try:
        yield name
    finally:
        _drop_namespace(server, api_client, arl_api, name)


@pytest.fixture
def fresh_namespace(server: Server, api_client, arl_api: ArlClient) -> Iterator[str]:
    """An empty namespace for one test."""
    name = _make_namespace(server, api_client)
    try:
        yield name
    finally:
        _drop_namespace(server, api_client, arl_api, name)


def sandbox_names(arl_api: ArlClient, namespace: str) -> set:
    """The Sandboxes in the namespace that are not being deleted."""
    return {s["metadata"]["name"] for s in arl_api.list(namespace, "sandboxes").get("items") or []
            if not s["metadata"].get("deletionTimestamp")}


def wait_gone(arl_api: ArlClient, namespace: str, plural: str, name: str, timeout: float = 120) -> None:
    """Waits (by watching) until the object is deleted; fails after timeout."""
    from kubernetes import watch

    from arl.types import GROUP, VERSION
    try:
        obj = arl_api.get(namespace, plural, name)
    except LookupError:
        return
    deadline = time.monotonic() + timeout
    w = watch.Watch()
    while time.monotonic() < deadline:
        for ev in w.stream(arl_api.custom.list_namespaced_custom_object, GROUP, VERSION, namespace, plural,
                           field_selector=f"metadata.name={name}",
                           resource_version=obj["metadata"]["resourceVersion"], timeout_seconds=10):
            if ev["type"] == "DELETED":
                return
        try:
            obj = arl_api.get(namespace, plural, name)
        except LookupError:
            return
    pytest.fail(f"{plural}/{name} still exists after {timeout}s")

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

import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest

from arl import ArlClient, WarmPoolManager, load_api_client
from standalone import REPO, Standalone, StartError

POOL = "python-pool"


@dataclass
class Server:
    kubeconfig: str
    kind: str  # "standalone" or "cluster"
    data_dir: Optional[Path] = None

    @property
    def cluster(self) -> bool:
        return self.kind == "cluster"


def _start() -> Standalone:
    try:
        return Standalone()
    except StartError as e:
        pytest.fail(str(e))


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
    standalone = _start()
    try:
        yield Server(standalone.kubeconfig, "standalone", standalone.data_dir)
    finally:
        standalone.destroy()


@pytest.fixture
def private_server() -> Iterator[Standalone]:
    """A standalone server of one test's own, which it may stop and restart
    (whichever server the suite runs against)."""
    standalone = _start()
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

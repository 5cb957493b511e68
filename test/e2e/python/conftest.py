"""Fixtures for the Python kubernetes client suite (Debian's python3-kubernetes,
run with /usr/bin/python3 -m pytest test/e2e/python) against the test cluster.

ARL_E2E_KUBECONFIG names the cluster admin's kubeconfig (hack/cluster/env.sh).
Without it every test is skipped, saying why, unless ARL_E2E_REQUIRED=1: then
they fail.
"""
import os
import secrets

import pytest

kubernetes = pytest.importorskip("kubernetes", reason="python3-kubernetes is not installed (apt-get install python3-kubernetes)")
from kubernetes import client, config  # noqa: E402

GROUP = "arl.infra.io"
VERSION = "v1alpha1"


@pytest.fixture(scope="session")
def api_client():
    path = os.environ.get("ARL_E2E_KUBECONFIG", "")
    if not path:
        msg = ("ARL_E2E_KUBECONFIG is not set: no test cluster "
               "(make cluster-up; eval \"$(hack/cluster/env.sh)\"; or run make test)")
        if os.environ.get("ARL_E2E_REQUIRED") == "1":
            pytest.fail("ARL_E2E_REQUIRED=1 but " + msg)
        pytest.skip(msg)
    return config.new_client_from_config(config_file=path)


@pytest.fixture(scope="session")
def arl_served(api_client):
    """Fails (not skips) when arl.infra.io is not Available: the cluster is meant to have it."""
    svc = client.ApiregistrationV1Api(api_client).read_api_service(f"{VERSION}.{GROUP}")
    conds = {c.type: c for c in (svc.status.conditions or [])}
    avail = conds.get("Available")
    assert avail is not None and avail.status == "True", f"APIService {VERSION}.{GROUP} not Available: {avail}"
    return True


@pytest.fixture
def namespace(api_client):
    core = client.CoreV1Api(api_client)
    name = "e2e-py-" + secrets.token_hex(3)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture
def custom(api_client, arl_served):
    return client.CustomObjectsApi(api_client)


def warmpool(name="python-pool", replicas=0, labels=None):
    """The manual's WarmPool."""
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "WarmPool",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {
            "replicas": replicas,
            "template": {"spec": {
                "containers": [{
                    "name": "executor",
                    "image": "python:3.9-slim",
                    "command": ["sleep", "infinity"],
                    "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
                }],
                "volumes": [{"name": "workspace", "emptyDir": {}}],
            }},
        },
    }


def sandbox(name="my-workspace", pool="python-pool"):
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Sandbox",
        "metadata": {"name": name},
        "spec": {"poolRef": pool, "keepAlive": True},
    }


def task(name="hello-task", sandbox_ref="my-workspace"):
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Task",
        "metadata": {"name": name},
        "spec": {
            "sandboxRef": sandbox_ref,
            "timeout": "30s",
            "steps": [
                {"name": "write-script", "type": "FilePatch", "path": "/workspace/hello.py",
                 "content": 'print("Hello from ARL!")\nprint("Task executed successfully")\n'},
                {"name": "run-script", "type": "Command", "command": ["python", "/workspace/hello.py"]},
            ],
        },
    }

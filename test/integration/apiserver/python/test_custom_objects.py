"""ARL through the official Kubernetes Python client (CustomObjectsApi)."""
import os

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

GROUP, VERSION, NS = "arl.infra.io", "v1alpha1", "default"


@pytest.fixture(scope="module")
def api():
    config.load_kube_config(config_file=os.environ["KUBECONFIG"])
    return client.CustomObjectsApi()


def example(name):
    with open(os.path.join(os.environ["ARL_EXAMPLES"], name)) as f:
        return yaml.safe_load(f)


def test_create_list_get_delete_every_kind(api):
    for plural, manifest in (("warmpools", "warmpool.yaml"), ("sandboxes", "sandbox.yaml"), ("tasks", "task.yaml")):
        body = example(manifest)
        created = api.create_namespaced_custom_object(GROUP, VERSION, NS, plural, body)
        assert created["metadata"]["name"] == body["metadata"]["name"]
        assert created["metadata"]["uid"]

    pools = api.list_namespaced_custom_object(GROUP, VERSION, NS, "warmpools")
    assert [p["metadata"]["name"] for p in pools["items"]] == ["python-pool"]
    assert pools["items"][0]["spec"]["replicas"] == 3

    task = api.get_namespaced_custom_object(GROUP, VERSION, NS, "tasks", "hello-task")
    assert task["spec"]["steps"][1]["command"] == ["python", "/workspace/hello.py"]
    assert task["status"]["state"] in ("Pending", "Running", "Succeeded", "Failed")

    tasks = api.list_namespaced_custom_object(GROUP, VERSION, NS, "tasks", field_selector="spec.sandboxRef=my-workspace")
    assert [t["metadata"]["name"] for t in tasks["items"]] == ["hello-task"]
    tasks = api.list_namespaced_custom_object(GROUP, VERSION, NS, "tasks", field_selector="spec.sandboxRef=nobody")
    assert tasks["items"] == []

    for plural, name in (("tasks", "hello-task"), ("sandboxes", "my-workspace"), ("warmpools", "python-pool")):
        api.delete_namespaced_custom_object(GROUP, VERSION, NS, plural, name)
    with pytest.raises(ApiException) as err:
        api.get_namespaced_custom_object(GROUP, VERSION, NS, "tasks", "hello-task")
    assert err.value.status == 404


def test_invalid_task_is_a_422_naming_the_field(api):
    body = example("task.yaml")
    body["metadata"]["name"] = "invalid-task"
    body["spec"]["steps"][0]["type"] = "Shell"
    with pytest.raises(ApiException) as err:
        api.create_namespaced_custom_object(GROUP, VERSION, NS, "tasks", body)
    assert err.value.status == 422
    assert "spec.steps[0].type" in err.value.body
    with pytest.raises(ApiException) as err:
        api.get_namespaced_custom_object(GROUP, VERSION, NS, "tasks", "invalid-task")
    assert err.value.status == 404


def test_scale_subresource(api):
    api.create_namespaced_custom_object(GROUP, VERSION, NS, "warmpools", example("warmpool.yaml"))
    try:
        api.patch_namespaced_custom_object_scale(GROUP, VERSION, NS, "warmpools", "python-pool", {"spec": {"replicas": 6}})
        scale = api.get_namespaced_custom_object_scale(GROUP, VERSION, NS, "warmpools", "python-pool")
        assert scale["spec"]["replicas"] == 6
    finally:
        api.delete_namespaced_custom_object(GROUP, VERSION, NS, "warmpools", "python-pool")

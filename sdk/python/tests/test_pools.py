"""WarmPoolManager against the real server."""

import pytest

from arl import ConflictError, InvalidError, NotFoundError, SandboxSession, WarmPoolManager, pod_template


def test_create_scale_inspect_delete(fresh_namespace, api_client, arl_api):
    pools = WarmPoolManager(fresh_namespace, api_client=api_client)
    created = pools.create("py", replicas=1, labels={"team": "rl"})
    assert created["spec"]["replicas"] == 1
    executor = created["spec"]["template"]["spec"]["containers"][0]
    assert (executor["name"], executor["image"], executor["command"]) == ("executor", "python:3.9-slim",
                                                                         ["sleep", "infinity"])
    assert executor["volumeMounts"] == [{"name": "workspace", "mountPath": "/workspace"}]
    assert created["spec"]["reusePolicy"] == "Delete"  # the server's default

    ready = pools.wait_ready("py", timeout=600)
    assert ready["status"]["readyReplicas"] >= 1

    assert [p["metadata"]["name"] for p in pools.list()] == ["py"]
    assert [p["metadata"]["name"] for p in pools.list(label_selector="team=rl")] == ["py"]
    assert pools.list(label_selector="team=other") == []

    scale = pools.scale("py", 2)
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2
    assert pools.get_scale("py")["spec"]["replicas"] == 2
    assert pools.get("py")["spec"]["replicas"] == 2
    ready = pools.wait_ready("py", timeout=600)
    assert ready["status"]["readyReplicas"] >= 2

    with SandboxSession("py", fresh_namespace, api_client=api_client) as session:
        assert session.execute([{"name": "run", "type": "Command", "command": ["true"]}])["status"]["exitCode"] == 0
        assert session.pod_name.startswith("py-")

    pools.delete("py")
    pools.delete("py")  # already gone is fine
    with pytest.raises(NotFoundError):
        pools.get("py")
    with pytest.raises(LookupError):
        pools.wait_ready("py", timeout=5)


def test_reset_policy_custom_template_and_refusals(fresh_namespace, api_client):
    pools = WarmPoolManager(fresh_namespace, api_client=api_client)
    template = pod_template(command=["sleep", "infinity"], workspace=None, env={"MODE": "test"})
    assert "volumes" not in template["spec"]
    pool = pools.create("custom", replicas=1, template=template, reuse_policy="Reset")
    assert pool["spec"]["reusePolicy"] == "Reset"
    assert pool["spec"]["template"]["spec"]["containers"][0]["env"] == [{"name": "MODE", "value": "test"}]

    with pytest.raises(ConflictError):
        pools.create("custom")
    with pytest.raises(InvalidError) as invalid:
        pools.create("bad", replicas=-1)
    assert invalid.value.fields == ["spec.replicas"]


def test_wait_ready_times_out_on_a_pool_that_cannot_start(fresh_namespace, api_client):
    pools = WarmPoolManager(fresh_namespace, api_client=api_client)
    pools.create("broken", replicas=1, command=["/no/such/command"])  # its pods never serve
    with pytest.raises(TimeoutError) as info:
        pools.wait_ready("broken", timeout=3)
    assert "0/1" in str(info.value)
    pools.delete("broken")

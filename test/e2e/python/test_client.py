"""The Python kubernetes client against arl.infra.io through kube-apiserver's
aggregation layer: discovery, create/get/list/watch/patch/delete of the three
kinds, and RBAC with a real service account token."""
import threading

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from conftest import GROUP, VERSION, sandbox, task, warmpool

PLURALS = {"warmpools": "WarmPool", "sandboxes": "Sandbox", "tasks": "Task"}


def test_discovery(api_client, arl_served):
    groups = client.ApisApi(api_client).get_api_versions()
    arl = [g for g in groups.groups if g.name == GROUP]
    assert arl, f"{GROUP} not in /apis"
    assert arl[0].preferred_version.group_version == f"{GROUP}/{VERSION}"

    # The group version's discovery document, as a V1APIResourceList (the
    # Debian client predates CustomObjectsApi.get_api_resources).
    resources = api_client.call_api(f"/apis/{GROUP}/{VERSION}", "GET", response_type="V1APIResourceList",
                                     auth_settings=["BearerToken"], _return_http_data_only=True)
    assert resources.group_version == f"{GROUP}/{VERSION}"
    by_name = {r.name: r for r in resources.resources}
    for plural, kind in PLURALS.items():
        r = by_name.get(plural)
        assert r is not None, f"{plural} not served"
        assert r.kind == kind and r.namespaced
        assert r.short_names, f"{plural} has no short names"
        assert "arl" in (r.categories or []), f"{plural} categories {r.categories}"
        assert f"{plural}/status" in by_name


def test_crud_and_watch(custom, namespace):
    ns = namespace
    events = []
    ready = threading.Event()
    w = watch.Watch()

    def watch_tasks():
        # Starts at the list's resourceVersion: sees exactly what happens next.
        rv = custom.list_namespaced_custom_object(GROUP, VERSION, ns, "tasks")["metadata"]["resourceVersion"]
        ready.set()
        for ev in w.stream(custom.list_namespaced_custom_object, GROUP, VERSION, ns, "tasks",
                           resource_version=rv, timeout_seconds=60):
            events.append((ev["type"], ev["object"]["metadata"]["name"]))
            if ev["type"] == "DELETED":
                w.stop()

    th = threading.Thread(target=watch_tasks, daemon=True)
    th.start()
    assert ready.wait(30)

    objs = {
        "warmpools": custom.create_namespaced_custom_object(GROUP, VERSION, ns, "warmpools", warmpool(replicas=1)),
        "sandboxes": custom.create_namespaced_custom_object(GROUP, VERSION, ns, "sandboxes", sandbox()),
        "tasks": custom.create_namespaced_custom_object(GROUP, VERSION, ns, "tasks", task()),
    }
    for plural, obj in objs.items():
        assert obj["kind"] == PLURALS[plural]
        assert obj["metadata"]["uid"]
        name = obj["metadata"]["name"]
        got = custom.get_namespaced_custom_object(GROUP, VERSION, ns, plural, name)
        assert got["metadata"]["uid"] == obj["metadata"]["uid"]
        assert got["spec"] == {**obj["spec"], **got["spec"]}  # what was sent is what is stored (defaults may be added)
        status = custom.get_namespaced_custom_object_status(GROUP, VERSION, ns, plural, name)
        assert status["metadata"]["name"] == name
        listed = custom.list_namespaced_custom_object(GROUP, VERSION, ns, plural)
        assert name in [i["metadata"]["name"] for i in listed["items"]]

    t = custom.get_namespaced_custom_object(GROUP, VERSION, ns, "tasks", "hello-task")
    assert [s["type"] for s in t["spec"]["steps"]] == ["FilePatch", "Command"]
    assert "Hello from ARL!" in t["spec"]["steps"][0]["content"]

    # patch (merge) a label; label selectors go through
    custom.patch_namespaced_custom_object(GROUP, VERSION, ns, "warmpools", "python-pool",
                                          {"metadata": {"labels": {"team": "py"}}})
    sel = custom.list_namespaced_custom_object(GROUP, VERSION, ns, "warmpools", label_selector="team=py")
    assert [i["metadata"]["name"] for i in sel["items"]] == ["python-pool"]
    none = custom.list_namespaced_custom_object(GROUP, VERSION, ns, "warmpools", label_selector="team=go")
    assert none["items"] == []

    for plural, name in [("tasks", "hello-task"), ("sandboxes", "my-workspace"), ("warmpools", "python-pool")]:
        custom.delete_namespaced_custom_object(GROUP, VERSION, ns, plural, name)

    th.join(60)
    assert ("ADDED", "hello-task") in events, events
    assert ("DELETED", "hello-task") in events, events

    for plural, name in [("tasks", "hello-task"), ("sandboxes", "my-workspace")]:
        with pytest.raises(ApiException) as e:
            custom.get_namespaced_custom_object(GROUP, VERSION, ns, plural, name)
        assert e.value.status == 404


def test_not_found_and_invalid(custom, namespace):
    with pytest.raises(ApiException) as e:
        custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "tasks", "no-such-task")
    assert e.value.status == 404
    bad = task(name="bad-task")
    bad["spec"]["steps"] = []
    bad["spec"]["sandboxRef"] = ""
    with pytest.raises(ApiException) as e:
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "tasks", bad)
    assert e.value.status == 422, e.value.body


def token_client(api_client, ns, sa):
    core = client.CoreV1Api(api_client)
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=sa)))
    tr = core.create_namespaced_service_account_token(
        sa, ns, client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600)))
    cfg = client.Configuration()
    base = api_client.configuration
    cfg.host = base.host
    cfg.ssl_ca_cert = base.ssl_ca_cert
    cfg.verify_ssl = True
    cfg.api_key = {"authorization": "Bearer " + tr.status.token}
    return client.CustomObjectsApi(client.ApiClient(cfg))


def test_rbac_with_token(api_client, custom, namespace):
    ns = namespace
    rbac = client.RbacAuthorizationV1Api(api_client)
    for sa, role in [("viewer", "view"), ("editor", "arl-edit")]:
        rbac.create_namespaced_role_binding(ns, {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": sa},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
        })
    viewer = token_client(api_client, ns, "viewer")
    editor = token_client(api_client, ns, "editor")

    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "warmpools", warmpool())
    assert viewer.list_namespaced_custom_object(GROUP, VERSION, ns, "warmpools")["items"]
    with pytest.raises(ApiException) as e:
        viewer.create_namespaced_custom_object(GROUP, VERSION, ns, "tasks", task(name="by-viewer"))
    assert e.value.status == 403

    created = editor.create_namespaced_custom_object(GROUP, VERSION, ns, "tasks", task(name="by-editor"))
    assert created["metadata"]["name"] == "by-editor"
    editor.delete_namespaced_custom_object(GROUP, VERSION, ns, "tasks", "by-editor")

    # Neither reaches another namespace.
    for c in (viewer, editor):
        with pytest.raises(ApiException) as e:
            c.list_namespaced_custom_object(GROUP, VERSION, "default", "tasks")
        assert e.value.status == 403

"""The manual's SDK's objects, sent with the plain Python kubernetes client
(issue 11): its pool with a sidecar container of its own, a Task naming a
container and a traceID on every step, a Sandbox with resources. The server answers with no warning but
the documented one (the user's sidecar is replaced): no field is unknown, so
none is dropped."""
from conftest import GROUP, VERSION, sandbox, warmpool
from test_tasks import finished, wait_for


def create(custom, ns, plural, body):
    """Creates an object and returns it with the server's Warning headers."""
    obj, _, headers = custom.create_namespaced_custom_object_with_http_info(GROUP, VERSION, ns, plural, body)
    return obj, [v for k, v in headers.items() if k.lower() == "warning"]


def sdk_pool():
    """WarmPoolManager.create_warmpool's pool: the executor and its own sidecar."""
    pool = warmpool(name="sdk-pool", replicas=1)
    pool["spec"]["template"]["spec"]["containers"].append({
        "name": "sidecar", "image": "registry.invalid/arl-sidecar:latest", "imagePullPolicy": "Always",
        "ports": [{"name": "http", "containerPort": 8080}, {"name": "grpc", "containerPort": 9090}],
        "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
    })
    return pool


def test_manual_sdk_objects(custom, namespace):
    _, warnings = create(custom, namespace, "warmpools", sdk_pool())
    assert len(warnings) == 1 and "container replaces this one in the pool's pods" in warnings[0], warnings

    # The manual's per-sandbox resources: served, so neither dropped nor warned about.
    body = sandbox(name="sdk-workspace", pool="sdk-pool")
    body["spec"]["resources"] = {"requests": {"cpu": "100m"}, "limits": {"memory": "256Mi"}}
    created, warnings = create(custom, namespace, "sandboxes", body)
    assert warnings == []
    assert created["spec"]["resources"] == {"requests": {"cpu": "100m"}, "limits": {"memory": "256Mi"}}

    def ready():
        sb = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "sandboxes", "sdk-workspace")
        return sb.get("status", {}).get("phase") == "Ready"
    wait_for("Sandbox sdk-workspace Ready", ready)

    body = {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Task", "metadata": {"name": "sdk-task"},
        "spec": {"sandboxRef": "sdk-workspace", "traceID": "4bf92f3577b34da6a3ce929d0e0e4736", "steps": [
            {"name": "write", "type": "FilePatch", "path": "/workspace/hello.py", "content": 'print("hello")', "container": "sidecar"},
            {"name": "run", "type": "Command", "command": ["python", "/workspace/hello.py"], "container": "executor"},
        ]},
    }
    created, warnings = create(custom, namespace, "tasks", body)
    assert warnings == []
    assert created["spec"]["traceID"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert [s["container"] for s in created["spec"]["steps"]] == ["sidecar", "executor"]
    done = finished(custom, namespace, "sdk-task")
    assert done["status"]["state"] == "Succeeded", done["status"]
    assert [s.get("stdout", "") for s in done["status"]["steps"]] == ["", "hello\n"]

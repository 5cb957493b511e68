"""Tasks on real pods with the Python kubernetes client, through kube-apiserver's
aggregation layer: a pool and a Sandbox made with CustomObjectsApi, Tasks created,
awaited and listed (field selectors filter on the server), and a Task run by a raw
POST to tasks/{name}/exec that answers the finished Task."""
import time

import pytest
from kubernetes.client.rest import ApiException

from conftest import GROUP, VERSION, sandbox, task, warmpool

TIMEOUT = 180


def wait_for(what, fn, timeout=TIMEOUT):
    """Polls fn until it returns something truthy; fails with what after timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
        except ApiException as e:
            last = e
        else:
            if last:
                return last
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}; last: {last}")


@pytest.fixture
def ready_sandbox(custom, namespace):
    """The manual's pool (1 idle pod) and Sandbox my-workspace, Ready."""
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "warmpools", warmpool(replicas=1))
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "sandboxes", sandbox())

    def ready():
        sb = custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "sandboxes", "my-workspace")
        return sb if sb.get("status", {}).get("phase") == "Ready" else None

    sb = wait_for("Sandbox my-workspace Ready", ready)
    assert sb["status"]["podName"] and sb["status"]["podIP"]
    return "my-workspace"


def finished(custom, ns, name):
    def done():
        t = custom.get_namespaced_custom_object(GROUP, VERSION, ns, "tasks", name)
        return t if t.get("status", {}).get("state") in ("Succeeded", "Failed") else None
    return wait_for(f"Task {name} finished", done)


def exec_task(api_client, ns, name, body):
    """POST tasks/{name}/exec: creates and runs the Task, answers it finished."""
    return api_client.call_api(
        f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/tasks/{name}/exec", "POST",
        header_params={"Content-Type": "application/json", "Accept": "application/json"},
        body=body, response_type="object", auth_settings=["BearerToken"],
        _return_http_data_only=True, _request_timeout=TIMEOUT)


def test_create_await_and_list_tasks(custom, namespace, ready_sandbox):
    ns = namespace
    created = custom.create_namespaced_custom_object(GROUP, VERSION, ns, "tasks", task())
    assert created["status"]["state"] in ("Pending", "Running", "Succeeded")
    done = finished(custom, ns, "hello-task")
    assert done["status"]["state"] == "Succeeded", done["status"]
    assert done["status"]["stdout"] == "Hello from ARL!\nTask executed successfully\n"
    assert done["status"]["exitCode"] == 0

    failing = task(name="failing-task")
    failing["spec"]["steps"] = [{"name": "check", "type": "Command", "command": ["test", "-f", "/workspace/nope"]}]
    custom.create_namespaced_custom_object(GROUP, VERSION, ns, "tasks", failing)
    assert finished(custom, ns, "failing-task")["status"]["state"] == "Failed"

    # Field selectors filter on the server.
    by_sandbox = custom.list_namespaced_custom_object(GROUP, VERSION, ns, "tasks",
                                                      field_selector=f"spec.sandboxRef={ready_sandbox}")
    assert sorted(t["metadata"]["name"] for t in by_sandbox["items"]) == ["failing-task", "hello-task"]
    succeeded = custom.list_namespaced_custom_object(GROUP, VERSION, ns, "tasks", field_selector="status.state=Succeeded")
    assert [t["metadata"]["name"] for t in succeeded["items"]] == ["hello-task"]
    status = custom.get_namespaced_custom_object_status(GROUP, VERSION, ns, "tasks", "hello-task")
    assert status["status"]["state"] == "Succeeded"


def test_exec_with_a_raw_post(api_client, custom, namespace, ready_sandbox):
    ns = namespace
    body = task(name="exec-task")
    body["spec"]["steps"].append({"name": "env", "type": "Command", "command": ["bash", "-c", "echo \"$GREETING\" >&2"],
                                  "env": {"GREETING": "from python"}})
    out = exec_task(api_client, ns, "exec-task", body)
    assert out["kind"] == "Task" and out["metadata"]["name"] == "exec-task"
    assert out["status"]["state"] == "Succeeded", out["status"]
    assert out["status"]["stdout"] == "Hello from ARL!\nTask executed successfully\n"
    assert out["status"]["stderr"] == "from python\n"
    assert [s["name"] for s in out["status"]["steps"]] == ["write-script", "run-script", "env"]

    # The same Task posted again is awaited, not run again; a different one
    # under that name is a conflict.
    again = exec_task(api_client, ns, "exec-task", body)
    assert again["metadata"]["uid"] == out["metadata"]["uid"] and again["status"]["attempts"] == 1
    other = task(name="exec-task")
    other["spec"]["steps"] = [{"name": "other", "type": "Command", "command": ["true"]}]
    with pytest.raises(ApiException) as e:
        exec_task(api_client, ns, "exec-task", other)
    assert e.value.status == 409, e.value.body

    listed = custom.list_namespaced_custom_object(GROUP, VERSION, ns, "tasks")
    assert "exec-task" in [t["metadata"]["name"] for t in listed["items"]]


class SandboxExec:
    """sandboxes/{name}/exec for kubernetes.stream.stream(), which wants a
    bound API method whose object has an api_client (as CoreV1Api's
    connect_get_namespaced_pod_exec)."""

    def __init__(self, api_client):
        self.api_client = api_client

    def connect(self, ns, name, command, stdin=False, stdout=True, stderr=True, tty=False, **kwargs):
        query = [("command", c) for c in command] + [
            (k, "true") for k, on in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr), ("tty", tty)) if on]
        return self.api_client.call_api(
            f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/sandboxes/{name}/exec", "GET",
            query_params=query, response_type="str", auth_settings=["BearerToken"],
            _return_http_data_only=True, **kwargs)


def test_sandbox_exec_with_stream(api_client, namespace, ready_sandbox):
    """The Python client's stream() (v4.channel.k8s.io) through the aggregation
    layer: stdout and stderr apart, the exit code, stdin to a tty-less command."""
    from kubernetes.stream import stream

    ex = SandboxExec(api_client)
    ws = stream(ex.connect, namespace, ready_sandbox, ["sh", "-c", "echo out; echo err >&2; exit 7"],
                _preload_content=False)
    ws.run_forever(timeout=60)
    assert (ws.read_stdout(), ws.read_stderr(), ws.returncode) == ("out\n", "err\n", 7)

    # All at once, as pods/exec answers with _preload_content (the default).
    assert stream(ex.connect, namespace, ready_sandbox, ["echo", "hello"], stderr=False) == "hello\n"

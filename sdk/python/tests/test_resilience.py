"""Sessions when the server goes away: ``execute`` across a restart (the cut
``tasks/{name}/exec`` call is posted again and answers the stored Task
instead of failing with a connection error or running the Task twice), and
a block's error that stays the one raised when the Sandbox cannot be deleted."""

import threading

import pytest
from kubernetes import watch

from arl import ArlClient, SandboxSession, TaskError, WarmPoolManager, load_api_client
from arl.types import GROUP, VERSION
from conftest import POOL


def watch_for_running(api_client, namespace):
    """Starts watching the namespace's Tasks now; the returned function waits
    for the first one seen Running and returns its name."""
    from kubernetes import client
    custom = client.CustomObjectsApi(api_client)
    rv = custom.list_namespaced_custom_object(GROUP, VERSION, namespace, "tasks")["metadata"]["resourceVersion"]

    def wait():
        for event in watch.Watch().stream(custom.list_namespaced_custom_object, GROUP, VERSION, namespace, "tasks",
                                          resource_version=rv, timeout_seconds=120):
            if (event["object"].get("status") or {}).get("state") == "Running":
                return event["object"]["metadata"]["name"]
        raise AssertionError("no Task ran within 120 s")
    return wait


def test_execute_survives_a_server_restart(private_server):
    api = load_api_client(private_server.kubeconfig)
    pools = WarmPoolManager("default", api_client=api)
    pools.create(POOL, replicas=1)
    pools.wait_ready(POOL, timeout=120)
    outcome = {}
    with SandboxSession(POOL, api_client=api) as session:
        def run():
            try:
                outcome["task"] = session.execute([{"name": "long", "type": "Command", "command": ["sleep", "600"]}])
            except BaseException as e:  # handed to the test thread
                outcome["error"] = e

        wait_running = watch_for_running(api, "default")
        caller = threading.Thread(target=run)
        caller.start()
        running = wait_running()
        private_server.stop()   # cuts the exec call
        private_server.start()  # same data, same port
        caller.join(300)
        if caller.is_alive():
            stored = ArlClient(api).get("default", "tasks", running)["status"]
            raise AssertionError(f"execute did not return after the server came back; the Task is {stored}\n"
                                 f"server log:\n{private_server.logs()}")

    # The replica that ran the Task is gone: the new one reports it lost,
    # through the same exec call, with the server's reason and message.
    err = outcome.get("error")
    assert isinstance(err, TaskError), outcome
    assert err.reason == "RunnerLost", err
    assert err.task["metadata"]["name"] == running


def test_the_blocks_error_wins_when_the_sandbox_cannot_be_deleted(private_server, caplog):
    api = load_api_client(private_server.kubeconfig)
    pools = WarmPoolManager("default", api_client=api)
    pools.create(POOL, replicas=1)
    pools.wait_ready(POOL, timeout=120)
    with pytest.raises(ZeroDivisionError):
        with SandboxSession(POOL, api_client=api) as session:
            private_server.stop()  # the delete on exit cannot reach it
            1 / 0
    assert f"deleting sandbox {session.name} after an error in the session failed" in caplog.text

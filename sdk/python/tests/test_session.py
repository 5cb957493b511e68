"""SandboxSession against the real server: the manual's quick start, the
session's lifecycle, and the error contract."""

import pytest
from kubernetes.client.rest import ApiException

import arl
from arl import (InvalidError, SandboxError, SandboxSession, SandboxTimeoutError, TaskError, TaskTimeoutError,
                 WarmPoolManager)
from conftest import POOL, sandbox_names, wait_gone


def run(command, name="run", **extra):
    return {"name": name, "type": "Command", "command": command, **extra}


def test_manual_quick_start_through_arl_client(namespace, api_client, arl_api):
    from arl_client.session import SandboxSession as ManualSession  # the manual's import path

    assert ManualSession is SandboxSession
    with ManualSession(POOL, namespace=namespace, api_client=api_client) as session:
        assert session.sandbox["status"]["phase"] == "Ready"
        assert session.pod_name
        result = session.execute([
            {"name": "write_script", "type": "FilePatch", "path": "/workspace/hello.py",
             "content": "print('hello from ARL')"},
            {"name": "run_script", "type": "Command", "command": ["python", "/workspace/hello.py"]},
        ])
        assert result["status"]["stdout"] == "hello from ARL\n"
        assert result["status"]["exitCode"] == 0
        assert result["status"]["state"] == "Succeeded"
        assert [s["name"] for s in result["status"]["steps"]] == ["write_script", "run_script"]
        assert result["spec"]["sandboxRef"] == session.name
        # The Task is stored: what execute returned is what the server has.
        stored = arl_api.get(namespace, "tasks", result["metadata"]["name"])
        assert stored["status"]["stdout"] == result["status"]["stdout"]
        name = session.name
    wait_gone(arl_api, namespace, "sandboxes", name)


def test_exit_deletes_the_sandbox_even_when_the_block_raises(namespace, api_client, arl_api):
    with pytest.raises(ZeroDivisionError):
        with SandboxSession(POOL, namespace, api_client=api_client) as session:
            name = session.name
            assert name in sandbox_names(arl_api, namespace)
            1 / 0
    wait_gone(arl_api, namespace, "sandboxes", name)


def test_keep_alive_keeps_the_sandbox_and_attach_reuses_it(namespace, api_client, arl_api):
    with SandboxSession(POOL, namespace, keep_alive=True, api_client=api_client) as session:
        session.write_file("/workspace/state.txt", "from the first session\n")
        name = session.name
    assert arl_api.get(namespace, "sandboxes", name)["status"]["phase"] == "Ready"

    with SandboxSession.attach(name, namespace, api_client=api_client) as again:
        assert again.name == name and again.pool_ref == POOL
        assert again.read_file("/workspace/state.txt") == "from the first session\n"
    # Leaving an attached session keeps the Sandbox; delete() removes it.
    assert arl_api.get(namespace, "sandboxes", name)
    again.delete()
    wait_gone(arl_api, namespace, "sandboxes", name)


def test_open_close_and_refresh_without_with(namespace, api_client, arl_api):
    session = SandboxSession(POOL, namespace, api_client=api_client)
    with pytest.raises(RuntimeError, match="no Sandbox"):
        session.execute([run(["true"])])
    session.open()
    try:
        assert session.open() is session  # idempotent: still one Sandbox
        assert session.refresh()["metadata"]["uid"] == session.sandbox["metadata"]["uid"]
        assert session.execute([run(["true"])])["status"]["state"] == "Succeeded"
    finally:
        name = session.name
        session.close()
        session.close()
    wait_gone(arl_api, namespace, "sandboxes", name)


def test_enter_waits_for_a_pod_when_the_pool_has_none_idle(fresh_namespace, api_client, arl_api):
    WarmPoolManager(fresh_namespace, api_client=api_client).create("empty", replicas=0)
    with SandboxSession("empty", fresh_namespace, timeout=600, api_client=api_client) as session:
        # The create answered Pending (no idle pod); entering returned once Ready.
        assert session.sandbox["status"]["phase"] == "Ready"
        assert session.execute([run(["echo", "ok"])])["status"]["stdout"] == "ok\n"


def test_sandbox_not_ready_in_time_is_a_timeout_and_is_deleted(fresh_namespace, api_client, arl_api):
    WarmPoolManager(fresh_namespace, api_client=api_client).create("empty", replicas=0)
    # timeout=0: take an idle pod or fail; the pool has none.
    session = SandboxSession("empty", fresh_namespace, timeout=0, api_client=api_client)
    with pytest.raises(SandboxTimeoutError) as info:
        session.__enter__()
    assert isinstance(info.value, TimeoutError)
    assert "WaitingForPod" in str(info.value)
    name = info.value.sandbox["metadata"]["name"]
    wait_gone(arl_api, fresh_namespace, "sandboxes", name)


def test_missing_pool_fails_at_once(fresh_namespace, api_client, arl_api):
    with pytest.raises(SandboxError) as info:
        with SandboxSession("no-such-pool", fresh_namespace, api_client=api_client):
            pytest.fail("entered a session on a pool that does not exist")
    assert info.value.reason == "PoolNotFound"
    assert isinstance(info.value, RuntimeError)
    assert "no-such-pool" in str(info.value)
    assert sandbox_names(arl_api, fresh_namespace) == set()


def test_resources_bound_the_sandbox_they_are_set_on(namespace, api_client):
    hog = run(["python", "-c", "b = b'x' * (256 << 20); print('allocated', len(b))"], name="hog")
    with SandboxSession(POOL, namespace, api_client=api_client,
                        resources={"requests": {"cpu": "100m"}, "limits": {"memory": "64Mi"}}) as small:
        assert small.sandbox["spec"]["resources"]["limits"] == {"memory": "64Mi"}
        with pytest.raises(TaskError, match="OOMKilled") as info:
            small.execute([hog])
        assert "allocated" not in info.value.task["status"].get("stdout", "")
    with SandboxSession(POOL, namespace, api_client=api_client) as plain:
        assert plain.execute([hog])["status"]["stdout"] == "allocated 268435456\n"


def test_resources_that_cannot_be_resized_are_an_invalid_error(namespace, api_client):
    with pytest.raises(InvalidError) as info:
        with SandboxSession(POOL, namespace, api_client=api_client, resources={"limits": {"ephemeral-storage": "1Gi"}}):
            pytest.fail("entered a session whose resources cannot be resized")
    assert "spec.resources.limits[ephemeral-storage]" in str(info.value)


def test_failed_command_is_a_result_not_an_exception(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        result = session.execute([
            run(["sh", "-c", "echo out; echo oops >&2; exit 3"], name="fails"),
            run(["echo", "never"], name="skipped"),
        ])
    status = result["status"]
    assert status["state"] == "Failed"
    assert status["exitCode"] == 3
    assert status["stdout"] == "out\n" and status["stderr"] == "oops\n"
    assert [s["name"] for s in status["steps"]] == ["fails"]  # steps stop at the first failure


def test_task_timeout_raises_timeout_error(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        with pytest.raises(TimeoutError) as info:
            session.execute([run(["sleep", "30"], name="slow")], timeout="1s")
        # The session still works after a timed-out Task.
        assert session.execute([run(["true"])])["status"]["state"] == "Succeeded"
    err = info.value
    assert isinstance(err, TaskTimeoutError) and err.reason == "TimedOut"
    assert err.task["spec"]["timeout"] == "1s"
    assert err.task["status"]["steps"][0]["timedOut"] is True


def test_invalid_step_is_an_api_exception_with_the_field_path(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        with pytest.raises(InvalidError) as info:
            session.execute([{"name": "bad", "type": "Command", "command": []}])
        with pytest.raises(InvalidError) as unknown:
            session.execute([{"name": "bad", "type": "Shell", "command": ["true"]}])
    err = info.value
    assert isinstance(err, ApiException) and isinstance(err, ValueError)
    assert err.status == 422
    assert err.fields == ["spec.steps[0].command"]
    assert "spec.steps[0].command" in str(err)
    assert unknown.value.fields == ["spec.steps[0].type"]


def test_steps_must_be_a_list_of_dicts(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        with pytest.raises(TypeError):
            session.execute(run(["true"]))  # a step, not a list of steps


def test_execution_error_is_a_runtime_error_with_the_servers_message(namespace, api_client, arl_api):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        arl_api.delete(namespace, "sandboxes", session.name)  # gone behind the session's back
        wait_gone(arl_api, namespace, "sandboxes", session.name)
        with pytest.raises(RuntimeError) as info:
            session.execute([run(["true"])])
    err = info.value
    assert isinstance(err, TaskError) and err.reason == "SandboxNotFound"
    assert session.name in str(err) and "does not exist" in str(err)
    assert err.task["status"]["state"] == "Failed"


def test_environment_working_directory_and_retries(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        result = session.execute([
            run(["mkdir", "-p", "/workspace/project"], name="mkdir"),
            run(["sh", "-c", "echo $APP_ENV $VERSION; pwd"], name="show", workDir="/workspace/project",
                env={"APP_ENV": "production", "VERSION": "1.0.0"}),
        ], timeout=30)
        assert result["status"]["stdout"] == "production 1.0.0\n/workspace/project\n"
        assert result["spec"]["timeout"] == "30s"

        # Fails on its first attempt, succeeds on the second.
        flaky = run(["sh", "-c", "test -f /workspace/tried && echo second || { touch /workspace/tried; exit 1; }"],
                    name="flaky")
        retried = session.execute([flaky], retries=2, ttl_seconds_after_finished=600)
        assert retried["status"]["state"] == "Succeeded"
        assert retried["status"]["attempts"] == 2
        assert retried["status"]["stdout"].endswith("second\n")
        assert retried["spec"]["ttlSecondsAfterFinished"] == 600


def test_seventy_second_task_through_execute(namespace, api_client):
    """Longer than kube-apiserver's 60 s timeout for ordinary requests."""
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        result = session.execute([run(["sh", "-c", "sleep 70; echo done"], name="long")])
    assert result["status"]["state"] == "Succeeded"
    assert result["status"]["stdout"] == "done\n"


def test_stream_yields_output_while_the_task_runs(namespace, api_client, arl_api):
    """The first line arrives while the command still waits for a signal
    that the test sends only after it read that line."""
    script = "echo first; trap 'echo second; exit 0' USR1; while :; do sleep 0.1; done"
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        stream = session.stream([run(["sh", "-c", script], name="waits")], timeout="120s")
        with pytest.raises(RuntimeError):
            stream.result  # not read yet
        chunks = iter(stream)
        first = next(chunks)
        state = arl_api.get(namespace, "tasks", stream.name)["status"].get("state")
        assert state == "Running", (f"the first output arrived when the Task was {state} ({first!r}): "
                                    "tasks/log did not stream it as it was printed")
        assert first == "first\n"
        running = [p for p in session.list_processes() if p.get("state") == "Running" and not p.get("background")]
        assert len(running) == 1, running
        session.signal(running[0]["pid"], "SIGUSR1", process_only=True)
        rest = "".join(chunks)
        assert rest == "second\n"
        assert stream.result["status"]["state"] == "Succeeded"
        assert stream.result["status"]["stdout"] == "first\nsecond\n"

        # wait() drains what is left; the error contract holds at the end.
        assert session.stream([run(["echo", "x"])]).wait()["status"]["stdout"] == "x\n"
        timed = session.stream([run(["sleep", "30"])], timeout=1)
        with pytest.raises(TimeoutError):
            timed.wait()
        with session.stream([run(["echo", "closed early"])]) as early:
            pass  # close() without reading: the Task still runs to its end
        with pytest.raises(InvalidError):
            session.stream([run([])])


def test_unique_sandbox_names():
    names = {arl.names.sandbox_name(POOL) for _ in range(48)}
    assert len(names) == 48
    long = arl.names.sandbox_name("p" * 63)
    assert len(long) <= 63 and long[0].isalnum() and long[-1].isalnum()

"""Many sessions at once: the manual's ThreadPoolExecutor batch at 16, and
the asyncio flavour."""

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from arl import AsyncSandboxSession, InvalidError, SandboxSession, WarmPoolManager, names, pod_template
from conftest import POOL, sandbox_names, wait_gone

SESSIONS = 16


def manual_task(namespace, api_client, task_id):
    """The manual's batch example, verbatim but for namespace and client."""
    with SandboxSession(POOL, namespace=namespace, api_client=api_client) as session:
        result = session.execute([
            {"name": "write", "type": "FilePatch", "path": f"/workspace/task_{task_id}.py",
             "content": f"print('task {task_id} done')"},
            {"name": "run", "type": "Command", "command": ["python", f"/workspace/task_{task_id}.py"]},
        ])
        return session.name, result


def test_sixteen_sessions_from_a_thread_pool(namespace, api_client, arl_api):
    before = sandbox_names(arl_api, namespace)
    with ThreadPoolExecutor(max_workers=SESSIONS) as executor:
        futures = [executor.submit(manual_task, namespace, api_client, i) for i in range(SESSIONS)]
        results = [f.result() for f in futures]
    sandboxes = [name for name, _ in results]
    assert len(set(sandboxes)) == SESSIONS  # each its own sandbox
    for i, (_, result) in enumerate(results):
        assert result["status"]["state"] == "Succeeded", result["status"]
        assert result["status"]["stdout"] == f"task {i} done\n"
    assert not set(sandboxes) & sandbox_names(arl_api, namespace) - before  # all deleted on exit


def test_names_do_not_collide_when_48_start_at_once():
    barrier = threading.Barrier(48)
    out = []

    def pick():
        barrier.wait()
        out.append(names.sandbox_name(POOL))

    threads = [threading.Thread(target=pick) for _ in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 48


def test_async_sessions(namespace, api_client, arl_api):
    async def one(i):
        async with AsyncSandboxSession(POOL, namespace, api_client=api_client) as session:
            assert session.namespace == namespace and session.pod_name
            assert (await session.refresh())["status"]["phase"] == "Ready"
            await session.write_file(f"/workspace/{i}.txt", f"file {i}\n")
            text = await session.read_file(f"/workspace/{i}.txt")
            result = await session.execute([{"name": "run", "type": "Command", "command": ["cat", f"/workspace/{i}.txt"]}])
            return session.name, text, result

    async def main():
        return await asyncio.gather(*(one(i) for i in range(SESSIONS)))

    results = asyncio.run(main())
    assert len({name for name, _, _ in results}) == SESSIONS
    for i, (_, text, result) in enumerate(results):
        assert text == f"file {i}\n"
        assert result["status"]["stdout"] == f"file {i}\n"
    assert not {name for name, _, _ in results} & sandbox_names(arl_api, namespace)


def test_async_stream_host_mode_and_errors(namespace, api_client, arl_api):
    async def main():
        session = AsyncSandboxSession(POOL, namespace, keep_alive=True, api_client=api_client)
        await session.open()
        try:
            stream = session.stream([{"name": "count", "type": "Command",
                                      "command": ["sh", "-c", "echo one; echo two >&2; echo three"]}])
            chunks = [c async for c in stream]
            # stdout and stderr are two pipes: each in order, interleaved as read.
            assert sorted("".join(chunks).split()) == ["one", "three", "two"]
            assert stream.result["status"]["stdout"] == "one\nthree\n"
            again = session.stream([{"name": "x", "type": "Command", "command": ["echo", "x"]}])
            assert (await again.wait())["status"]["stdout"] == "x\n"
            await again.aclose()

            pid = await session.start_process(["sleep", "600"])
            assert pid in [p["pid"] for p in await session.list_processes()]
            assert (await session.signal(pid, "SIGKILL"))["signal"] == "SIGKILL"
            assert (await session.reset())["removed"] == []
            with pytest.raises(TimeoutError):
                await session.execute([{"name": "slow", "type": "Command", "command": ["sleep", "30"]}], timeout=1)
            with pytest.raises(InvalidError):
                await session.execute([{"name": "bad", "type": "Command"}])
            await session.close()  # keep_alive: still there
            assert session.name in sandbox_names(arl_api, namespace)
        finally:
            await session.delete()
        return session.name

    name = asyncio.run(main())
    assert name not in sandbox_names(arl_api, namespace)


def test_cancelled_async_enter_deletes_the_sandbox(fresh_namespace, api_client, arl_api):
    """A coroutine cancelled while its Sandbox waits for a pod: the Sandbox,
    which becomes Ready only after the cancellation, is deleted then."""
    pools = WarmPoolManager(fresh_namespace, api_client=api_client)
    # The agent serves only once the main command runs: this one never does.
    pools.create("gate", replicas=0, command=["/no/such/command"])  # no pod of it can become Ready

    async def main():
        session = AsyncSandboxSession("gate", fresh_namespace, timeout=600, api_client=api_client)
        entering = asyncio.ensure_future(session.open())
        while not sandbox_names(arl_api, fresh_namespace):  # created, Pending
            await asyncio.sleep(0.05)
        entering.cancel()
        with pytest.raises(asyncio.CancelledError):
            await entering

    asyncio.run(main())
    # The server's name: the session's thread may not have read its create's answer yet.
    (name,) = sandbox_names(arl_api, fresh_namespace)
    assert arl_api.get(fresh_namespace, "sandboxes", name)["status"]["phase"] == "Pending"
    # Now let the pool make pods that start: the Sandbox binds, open() returns
    # in its thread, and the session deletes what nobody is waiting for.
    arl_api.patch(fresh_namespace, "warmpools", "gate", {"spec": {"template": pod_template()}})
    wait_gone(arl_api, fresh_namespace, "sandboxes", name, timeout=600)

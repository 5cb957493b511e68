"""Commands and terminals without Tasks: ``session.run`` (a plain POST to
sandboxes/{name}/exec, answered as NDJSON) and ``session.shell`` (the
WebSocket channel protocol of pods/exec), on real sandboxes."""

import asyncio
import hashlib
import io
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from arl import ApiError, AsyncSandboxSession, ExecResult, ExecTimeoutError, InvalidError, NotFoundError, SandboxSession
from conftest import POOL, wait_gone

CONCURRENT = 50


def tasks_of(arl_api, namespace, sandbox):
    return arl_api.list(namespace, "tasks", field_selector=f"spec.sandboxRef={sandbox}").get("items") or []


def test_run_exit_code_stdout_and_stderr_exact(namespace, api_client, arl_api):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        result = session.run(["sh", "-c", "printf 'out\\n'; printf 'err\\n' >&2; exit 7"])
        assert isinstance(result, ExecResult)
        assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 7)
        assert (result.stdout_bytes, result.stderr_bytes) == (b"out\n", b"err\n")
        assert not result.ok and result.signal == ""

        # A str is a shell command line; argv elements are not re-split.
        assert session.run("echo $((6 * 7)) | tr 4 x").stdout == "x2\n"
        assert session.run(["printf", "%s|", "a b", "c'd", "$HOME"]).stdout == "a b|c'd|$HOME|"
        # Bytes as they are; text is UTF-8, invalid bytes replaced.
        raw = session.run(["printf", "\\303\\251\\377"])
        assert raw.stdout_bytes == b"\xc3\xa9\xff" and raw.stdout == "\u00e9\ufffd" and raw.ok

        # The no-object path: nothing was stored.
        assert tasks_of(arl_api, namespace, session.name) == []


def test_run_stdin_as_bytes_text_and_file(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        assert session.run(["cat"], stdin=b"\x00\x01bytes\xff").stdout_bytes == b"\x00\x01bytes\xff"
        assert session.run("cat; echo end", stdin="h\u00e9llo\n").stdout == "h\u00e9llo\nend\n"
        big = bytes(range(256)) * 8192  # 2 MiB, sent chunked from a file-like object
        counted = session.run(["sh", "-c", "wc -c; echo done >&2"], stdin=io.BytesIO(big))
        assert (counted.stdout, counted.stderr, counted.exit_code) == (f"{len(big)}\n", "done\n", 0)
        assert session.run(["sha256sum"], stdin=io.BytesIO(big)).stdout.split()[0] == hashlib.sha256(big).hexdigest()
        # Without stdin the command reads an empty one.
        assert session.run(["cat"]).stdout == ""
        # The agent holds stdin whole: 16 MiB at most, the server's 413 past it
        # (not a broken connection, though it stopped reading the body).
        assert session.run(["wc", "-c"], stdin=b"y" * (16 << 20)).stdout == f"{16 << 20}\n"
        with pytest.raises(ApiError) as too_large:
            session.run(["wc", "-c"], stdin=io.BytesIO(b"y" * (20 << 20)))
        assert too_large.value.status == 413


def test_fifty_concurrent_runs_have_exact_outputs(namespace, api_client):
    script = 'i=$1; echo "out $i"; echo "err $i" >&2; head -c $((i * 4096)) /dev/zero | tr "\\0" x; exit $((i % 5))'

    def one(session, i):
        return i, session.run(["sh", "-c", script, "sh", str(i)], timeout=120)

    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        with ThreadPoolExecutor(CONCURRENT) as pool:
            results = list(pool.map(lambda i: one(session, i), range(CONCURRENT)))
    for i, result in results:
        assert result.stdout == f"out {i}\n" + "x" * (i * 4096), (i, result)
        assert result.stderr == f"err {i}\n"
        assert result.exit_code == i % 5


def test_run_timeout_stops_the_command(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        start = time.monotonic()
        with pytest.raises(ExecTimeoutError) as info:
            session.run(["sh", "-c", "echo started; sleep 3; touch /workspace/survived"], timeout=1)
        assert time.monotonic() - start < 10
        assert isinstance(info.value, TimeoutError)
        assert info.value.stdout == b"started\n"
        # Closing the connection cancelled the command: it never got to touch.
        time.sleep(4)
        assert not session.files.exists("/workspace/survived")
        assert session.run("echo still usable").stdout == "still usable\n"


def test_run_errors_follow_the_contract(namespace, api_client, arl_api):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        with pytest.raises(InvalidError) as invalid:
            session.run([])
        assert invalid.value.status == 422 and invalid.value.fields == ["command"]
        with pytest.raises(TypeError):
            session.run([b"echo"])
        missing = session.run(["no-such-program-arl"])
        assert missing.exit_code == 127 and "no-such-program-arl" in missing.stderr

        arl_api.delete(namespace, "sandboxes", session.name)  # gone behind the session's back
        wait_gone(arl_api, namespace, "sandboxes", session.name)
        with pytest.raises(NotFoundError) as gone:
            session.run(["true"])
        assert gone.value.status == 404 and session.name in str(gone.value)
        with pytest.raises(NotFoundError):
            session.shell()


def wait_for_size(shell, rows, cols, timeout=30):
    """Asks ``stty size`` until the terminal has the size (the resize and
    the keystrokes travel on different channels)."""
    want = f"{rows} {cols}"
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        shell.write("stty size\n")
        try:
            seen += shell.read_until(want, timeout=1)
            return seen
        except TimeoutError as e:
            seen += e.output
    pytest.fail(f"the terminal never said {want!r}; it printed {seen!r}")


def test_shell_resize_and_exit_code(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        with session.shell() as shell:
            assert shell.exit_code is None
            shell.resize(40, 100)
            wait_for_size(shell, 40, 100)
            shell.write("echo h\u00e9llo-$((40 + 2))\n")
            assert shell.read_until("h\u00e9llo-42", timeout=30).endswith("h\u00e9llo-42")
            shell.write("exit 7\n")
            assert shell.wait(timeout=30) == 7
            assert shell.exit_code == 7
            with pytest.raises(BrokenPipeError):
                shell.write("echo too late\n")

        # A command of its own, sized when opened (the size follows the start:
        # it asks once its first output made the round trip); its exit code.
        with session.shell(["sh", "-c", "echo ready; read line; stty size; echo \"got $line\"; exit 3"],
                           rows=50, cols=132) as sh:
            sh.read_until("ready", timeout=30)
            sh.write("input\n")
            out = sh.read_until("got input", timeout=30)
            assert "50 132" in out
            assert sh.wait(timeout=30) == 3 and sh.exit_code == 3


def test_shell_close_hangs_up(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        shell = session.shell(["sh", "-c", "echo ready; sleep 3; touch /workspace/after-hangup"])
        assert shell.read_until("ready", timeout=30).endswith("ready")
        shell.close()
        shell.close()  # idempotent
        assert shell.closed and shell.exit_code is None
        assert shell.read(timeout=1) in ("\r\n", "")  # only what arrived before the close
        assert shell.read(timeout=1) == ""
        # The hang-up ended the command before it got to touch.
        time.sleep(4)
        assert not session.files.exists("/workspace/after-hangup")


def test_async_run_and_shell(namespace, api_client):
    async def main():
        async with AsyncSandboxSession(POOL, namespace, api_client=api_client) as session:
            results = await asyncio.gather(*(session.run(["sh", "-c", f"echo {i}; exit {i}"]) for i in range(8)))
            assert [(r.stdout, r.exit_code) for r in results] == [(f"{i}\n", i) for i in range(8)]
            assert (await session.run("cat", stdin=b"async")).stdout == "async"
            async with await session.shell(["sh", "-c", "read x; echo \"<$x>\"; exit 5"]) as shell:
                await shell.write("typed\n")
                assert (await shell.read_until("<typed>", timeout=30)).endswith("<typed>")
                assert await shell.wait(timeout=30) == 5
                assert shell.exit_code == 5

    asyncio.run(main())

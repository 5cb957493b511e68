"""The Python SDK's Task-less calls on real pods, through kube-apiserver's
aggregation layer: ``session.run`` (a plain POST to sandboxes/{name}/exec,
NDJSON back), ``session.files`` (sandboxes/{name}/files and /archive, bodies
streamed chunked through the proxy) and ``session.shell`` (the WebSocket
channel protocol through the proxy)."""
import hashlib
import io
import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sdk" / "python"))

from arl import InvalidError, SandboxFileNotFoundError, SandboxSession, WarmPoolManager  # noqa: E402

POOL = "python-pool"


@pytest.fixture
def session(api_client, arl_served, namespace):
    pools = WarmPoolManager(namespace, api_client=api_client)
    pools.create(POOL, replicas=1)  # the manual's pool: python:3.9-slim, /workspace
    pools.wait_ready(POOL, timeout=300)
    with SandboxSession(POOL, namespace, timeout=300, api_client=api_client) as s:
        yield s


def test_run_through_aggregation(session):
    result = session.run(["sh", "-c", "echo out; echo err >&2; exit 7"])
    assert (result.stdout, result.stderr, result.exit_code) == ("out\n", "err\n", 7)
    assert session.run("python -c 'import sys; print(sys.stdin.read().upper())'", stdin="piped").stdout == "PIPED\n"
    big = os.urandom(3 << 20)
    assert session.run(["sha256sum"], stdin=io.BytesIO(big)).stdout.split()[0] == hashlib.sha256(big).hexdigest()
    with pytest.raises(InvalidError):
        session.run([])


def test_files_through_aggregation(session, tmp_path):
    files = session.files
    files.write("/workspace/e2e/hello.txt", "hello from the SDK\n", parents=True)
    assert files.read_text("/workspace/e2e/hello.txt") == "hello from the SDK\n"
    assert session.run(["cat", "/workspace/e2e/hello.txt"]).stdout == "hello from the SDK\n"
    assert files.stat("e2e/hello.txt")["size"] == 19

    data = os.urandom(12 << 20)
    assert files.write("e2e/big.bin", io.BytesIO(data))["size"] == len(data)
    out = io.BytesIO()
    assert files.read_into("e2e/big.bin", out) == len(data)
    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "run.sh").write_text("#!/bin/sh\necho tree\n")
    os.chmod(src / "sub" / "run.sh", 0o755)
    os.symlink("sub/run.sh", src / "link")
    files.upload(src, "/workspace/tree")
    assert session.run(["/workspace/tree/link"]).stdout == "tree\n"
    assert sorted(files.download("/workspace/tree", tmp_path / "back")) == ["link", "sub", "sub/run.sh"]
    assert os.readlink(tmp_path / "back" / "link") == "sub/run.sh"
    assert (tmp_path / "back" / "sub" / "run.sh").read_text() == "#!/bin/sh\necho tree\n"

    with pytest.raises(SandboxFileNotFoundError):
        files.read("e2e/missing")
    with pytest.raises(InvalidError):
        files.read("../etc/passwd")


def test_shell_through_aggregation(session):
    with session.shell() as shell:
        shell.resize(40, 100)
        deadline = time.monotonic() + 60
        while True:  # the resize and the keystrokes travel on different channels
            shell.write("stty size\n")
            try:
                shell.read_until("40 100", timeout=1)
                break
            except TimeoutError:
                assert time.monotonic() < deadline, "the terminal never said 40 100"
        shell.write("exit 7\n")
        assert shell.wait(timeout=60) == 7

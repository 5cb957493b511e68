"""Host mode and files: background processes, their PIDs, signals, reset,
and the file helpers, on real sandboxes."""

import signal

import pytest

from arl import NotFoundError, SandboxSession, TaskError
from conftest import POOL

# A tiny HTTP server and its client, both stdlib: they run in any Python image.
SERVER = """
import http.server
class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"Hello from ARL Host Mode!")
http.server.HTTPServer(("127.0.0.1", 5000), Hello).serve_forever()
"""
CLIENT = """
import time, urllib.request
for _ in range(300):
    try:
        print(urllib.request.urlopen("http://127.0.0.1:5000", timeout=2).read().decode()); break
    except OSError:
        time.sleep(0.1)
else:
    raise SystemExit("the server never answered")
"""


def py(name, code):
    return {"name": name, "type": "Command", "command": ["python", "-c", code]}


def test_background_process_signal_and_reset(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        session.write_file("/workspace/app.py", SERVER)
        pid = session.start_process(["python", "/workspace/app.py"], env={"APP": "1"}, work_dir="/workspace")
        assert pid > 0

        # Several Tasks talk to the one background process.
        for _ in range(2):
            answer = session.execute([py("get", CLIENT)], timeout="60s")
            assert answer["status"]["stdout"] == "Hello from ARL Host Mode!\n", answer["status"]

        procs = {p["pid"]: p for p in session.list_processes()}
        assert procs[pid]["state"] == "Running" and procs[pid]["background"] is True
        assert procs[pid]["command"] == ["python", "/workspace/app.py"]

        sent = session.signal(pid, signal.SIGTERM)
        assert sent["pid"] == pid and sent["signal"] == "SIGTERM" and sent["processGroup"] is True
        # Wait in the sandbox until the process is gone (the agent reaps it).
        gone = session.execute([{"name": "wait", "type": "Command",
                                 "command": ["sh", "-c", f"while kill -0 {pid} 2>/dev/null; do sleep 0.1; done"]}],
                               timeout="60s")
        assert gone["status"]["state"] == "Succeeded"
        ended = {p["pid"]: p for p in session.list_processes()}[pid]
        assert ended["state"] != "Running" and ended.get("signal") == "SIGTERM", ended

        with pytest.raises(NotFoundError) as unknown:
            session.signal(999999)
        assert isinstance(unknown.value, LookupError) and unknown.value.status == 404
        with pytest.raises(ValueError):
            session.signal()

        # Reset kills what runs and empties the workspace.
        other = session.start_process(["sleep", "600"])
        keep = session.reset(preserve_files=True)
        assert [p["pid"] for p in keep.get("killed", [])] == [other]
        assert session.read_file("/workspace/app.py") == SERVER
        wiped = session.reset()
        assert wiped.get("killed", []) == []
        assert "app.py" in wiped["removed"]
        with pytest.raises(FileNotFoundError):
            session.read_file("/workspace/app.py")


def test_manual_way_two_pid_in_stdout(namespace, api_client):
    """The manual's `nohup ... & echo $!`: stdout is exactly the PID."""
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        result = session.execute([
            {"name": "start", "type": "Command",
             "command": ["bash", "-c", "nohup sleep 600 > /tmp/sleep.log 2>&1 & echo $!"]}])
        pid = int(result["status"]["stdout"])
        stop = session.execute([{"name": "kill", "type": "Command", "command": ["kill", str(pid)]}])
        assert stop["status"]["state"] == "Succeeded"


def test_files(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        text = "héllo, ARL ✓\nline two\n"
        task = session.write_file("/workspace/notes/a.txt", text)
        assert task["status"]["state"] == "Succeeded"
        assert session.read_file("/workspace/notes/a.txt") == text

        session.write_file("/workspace/run.sh", "#!/bin/sh\necho executable\n", mode=0o755)
        ran = session.execute([{"name": "run", "type": "Command", "command": ["/workspace/run.sh"]}])
        assert ran["status"]["stdout"] == "executable\n"

        with pytest.raises(FileNotFoundError) as missing:
            session.read_file("/workspace/nope.txt")
        assert missing.value.filename == "/workspace/nope.txt"
        with pytest.raises(TaskError) as directory:
            session.read_file("/workspace/notes")
        assert "directory" in str(directory.value).lower()
        with pytest.raises(TaskError):
            session.write_file("/proc/not-writable", "x")
        with pytest.raises(TaskError):
            session.start_process(["/no/such/binary"])

"""A standalone ``arl-apiserver`` for the SDK's tests and benchmark.

It does what the Go suites' test/integration/framework does: start
``bin/arl-apiserver --standalone`` (or ``$ARL_APISERVER_BIN``) on a fresh data
directory and a free port, wait for the ``export KUBECONFIG=...`` line it
prints once serving, and at the end kill the local sandboxes it started,
which outlive the server by design.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[3]


class StartError(RuntimeError):
    """The server could not be started; the message says why."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Standalone:
    """One ``arl-apiserver --standalone`` with its own data directory and port."""

    def __init__(self) -> None:
        self.binary = os.environ.get("ARL_APISERVER_BIN") or str(REPO / "bin" / "arl-apiserver")
        if not os.access(self.binary, os.X_OK):
            raise StartError(f"{self.binary} is missing: run hack/build.sh (or set ARL_APISERVER_BIN)")
        self.data_dir = Path(tempfile.mkdtemp(prefix="arl-sdk-test-"))
        self.port = _free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.kubeconfig = ""
        self.start()

    def start(self) -> None:
        """Starts the server (again, on the same data) and waits until it serves."""
        with open(self.data_dir / "apiserver.log", "ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "--standalone", "--data-dir", str(self.data_dir), "--secure-port", str(self.port)],
                stdout=subprocess.PIPE, stderr=log, text=True)
        announced: list = []
        done = threading.Event()
        proc = self.proc

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("export KUBECONFIG=") and not announced:
                    announced.append(line.split("=", 1)[1].strip())
                    done.set()
            done.set()

        threading.Thread(target=read, daemon=True).start()
        if not done.wait(90) or not announced:
            self.stop()
            raise StartError(f"arl-apiserver did not announce its kubeconfig:\n{self.logs()}")
        self.kubeconfig = announced[0]

    def logs(self) -> str:
        """The end of the server's log."""
        return (self.data_dir / "apiserver.log").read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        """Stops the server (SIGTERM, SIGKILL after 20 s); its sandboxes live on."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def destroy(self) -> None:
        """Stops the server, kills its sandboxes, removes its data."""
        self.stop()
        self.kill_sandboxes()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def kill_sandboxes(self) -> None:
        """SIGKILLs the local sandboxes' agents, found in DIR/pods/*/*/pod.json."""
        for meta in self.data_dir.glob("pods/*/*/pod.json"):
            try:
                pid = int(json.loads(meta.read_text()).get("pid") or 0)
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if pid > 0 else b""
            except (OSError, ValueError):
                continue
            if b"arl-sidecar" in cmdline:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.remove_cgroups()

    def remove_cgroups(self, timeout: float = 10) -> None:
        """Kills what is left in the sandboxes' cgroups (their parents are
        listed in DIR/pods/cgroups) and removes the cgroups."""
        listing = self.data_dir / "pods" / "cgroups"
        if not listing.exists():
            return
        parents = [Path(p) for p in listing.read_text().split()]
        deadline = time.monotonic() + timeout
        for parent in parents:
            for cg in [d for d in parent.glob("*") if d.is_dir()]:
                while time.monotonic() < deadline:
                    pids = [int(p) for p in (cg / "cgroup.procs").read_text().split()]
                    if not pids:
                        break
                    for pid in pids:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    time.sleep(0.01)
                while cg.exists() and time.monotonic() < deadline:
                    try:
                        cg.rmdir()
                    except OSError:  # busy until its last process is reaped
                        time.sleep(0.01)
        for parent in parents:
            try:
                parent.rmdir()
            except OSError:
                pass

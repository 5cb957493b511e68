"""Every examples/python script, run as a user runs it (a subprocess), with
its output checked against what its docstring (and the manual) says."""

import os
import re
import subprocess
import sys

import pytest

from arl import SandboxSession
from conftest import POOL, REPO, sandbox_names

EXAMPLES = REPO / "examples" / "python"


def run_example(server, namespace, script, *args, python=sys.executable, flags=()):
    env = dict(os.environ, KUBECONFIG=server.kubeconfig, ARL_NAMESPACE=namespace, ARL_POOL=POOL)
    env.pop("PYTHONPATH", None)  # the example finds the SDK itself
    env.pop("ARL_EXAMPLE_REEXEC", None)
    proc = subprocess.run([python, *flags, str(EXAMPLES / script), *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


@pytest.fixture
def no_leftovers(namespace, arl_api):
    """The examples delete every sandbox they create."""
    before = sandbox_names(arl_api, namespace)
    yield
    assert sandbox_names(arl_api, namespace) - before == set()


def test_every_example_is_tested():
    scripts = sorted(p.name for p in EXAMPLES.glob("[0-9][0-9]_*.py"))
    assert scripts == [
        "01_basic_execution.py", "02_multi_step_pipeline.py", "03_environment_variables.py",
        "04_working_directory.py", "05_error_handling.py", "06_long_running_task.py", "07_sandbox_reuse.py",
        "08_host_mode_server.py", "09_batch_parallel.py"]


def test_01_basic_execution(server, namespace, no_leftovers):
    out = run_example(server, namespace, "01_basic_execution.py").stdout
    assert re.fullmatch(r"Sandbox: python-pool-sbx-[0-9a-f]{10} \(pod \S+\)\n"
                        r"Output: Hello from ARL!\nTask executed successfully\n\nExit code: 0\n", out), out


def test_01_runs_again_under_a_python_with_kubernetes(server, namespace, no_leftovers):
    """`python3 -S` cannot import Debian's kubernetes: the example says so
    and runs itself under /usr/bin/python3."""
    proc = run_example(server, namespace, "01_basic_execution.py", python="/usr/bin/python3", flags=["-S"])
    assert "has no 'kubernetes' package; running again under /usr/bin/python3" in proc.stderr
    assert "Output: Hello from ARL!" in proc.stdout


def test_02_multi_step_pipeline(server, namespace, no_leftovers):
    out = run_example(server, namespace, "02_multi_step_pipeline.py").stdout
    assert out == ("Processed 2 users\n  - Alice\n  - Bob\n"
                   "step create-data: exit 0\nstep process-data: exit 0\nstep run-process: exit 0\n"
                   "step cleanup: exit 0\nState: Succeeded\n")


def test_03_environment_variables(server, namespace, no_leftovers):
    out = run_example(server, namespace, "03_environment_variables.py").stdout
    assert out == "Environment: production\nVersion: 1.0.0\n"


def test_04_working_directory(server, namespace, no_leftovers):
    out = run_example(server, namespace, "04_working_directory.py").stdout
    assert out == ("/workspace/project\nRunning from /workspace/project: src/main.py\n"
                   "written relative to the working directory\n")


def test_05_error_handling(server, namespace, no_leftovers):
    out = run_example(server, namespace, "05_error_handling.py").stdout
    assert re.fullmatch(
        r"== a failing program\nTask failed: something went wrong\nExit code: 1\n"
        r"== a missing command\nTask failed \(exit 127\)\n"
        r"== too slow for its timeout\nTask timed out\n"
        r"== an invalid step\nInvalid task: spec\.steps\[0\]\.command: Required value.*\n"
        r"== a flaky step with retries\nSucceeded after 2 attempts\n"
        r"== a sandbox deleted under the session\n"
        r"Execution error: task \S+: SandboxNotFound: Sandbox \"\S+\" does not exist in namespace \"\S+\"\n", out), out


def test_06_long_running_task(server, namespace, no_leftovers):
    out = run_example(server, namespace, "06_long_running_task.py", "3").stdout
    assert out == "step 1/3\nstep 2/3\nstep 3/3\nfinished\nState: Succeeded, exit code 0, lines: 4\n"


def test_07_sandbox_reuse(server, namespace, no_leftovers):
    out = run_example(server, namespace, "07_sandbox_reuse.py").stdout
    assert re.fullmatch(r"task-1: counter = 1\ntask-2: counter = 2\ntask-3: counter = 3\n"
                        r"kept: python-pool-sbx-[0-9a-f]{10}\nattached again: counter = 3\ndeleted\n", out), out


def test_08_host_mode_server(server, namespace, api_client, no_leftovers):
    with SandboxSession(POOL, namespace, api_client=api_client) as session:
        flask = session.execute([{"name": "f", "type": "Command", "command": ["python", "-c", "import flask"]}])
    has_flask = flask["status"]["exitCode"] == 0
    if server.cluster:
        assert has_flask, "the cluster's python:3.9-slim test image has Flask"
    first = ("Serving with Flask" if has_flask
             else "Flask is not installed in the sandbox's Python: serving with http.server")
    out = run_example(server, namespace, "08_host_mode_server.py").stdout
    assert re.fullmatch(re.escape(first) + r"\nStarted the server, PID (\d+)\nHello from ARL Host Mode!\n"
                        r"Processes: \1 Running python /workspace/app\.py\nSent SIGTERM to \1\n"
                        r"Server stopped: SIGTERM\n", out), out


@pytest.mark.parametrize("flags", [[], ["--async"]])
def test_09_batch_parallel(server, namespace, flags, no_leftovers):
    out = run_example(server, namespace, "09_batch_parallel.py", *flags).stdout
    assert out == "".join(f"task {i} done\n" for i in range(5)) + "5 tasks, 5 sandboxes\n"

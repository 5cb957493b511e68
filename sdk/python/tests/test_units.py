"""The pure parts: timeouts, names, and how a finished Task maps to the
error contract (the integration tests reach each branch on the server too)."""

import base64
import datetime
import errno
import json

import pytest
from kubernetes.client.rest import ApiException

from arl import (ApiError, ConflictError, InvalidError, NotFoundError, SandboxFileNotFoundError, TaskError,
                 TaskTimeoutError, names)
from arl.commands import argv, run_command
from arl.errors import check_task, wrap_api_exception, wrap_file_exception
from arl.shell import exit_code_of
from arl.tasks import format_timeout


@pytest.mark.parametrize("given, sent", [
    (None, None), ("30s", "30s"), ("2m", "2m"), (30, "30s"), (30.0, "30s"), (1.5, "1500ms"),
    (datetime.timedelta(minutes=2), "120s"),
])
def test_format_timeout(given, sent):
    assert format_timeout(given) == sent


@pytest.mark.parametrize("bad", [True, [30], object()])
def test_format_timeout_refuses(bad):
    with pytest.raises(TypeError):
        format_timeout(bad)


def test_names_are_dns_labels():
    for pool in ("python-pool", "P" * 80, "a.b_c"):
        name = names.sandbox_name(pool)
        assert len(name) <= 63 and name == name.lower()
        assert name[0].isalnum() and name[-1].isalnum()
        assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
    assert names.task_name("sbx", 3).startswith("sbx-3-")


def finished(reason, state="Failed"):
    return {"metadata": {"name": "t"}, "status": {
        "state": state, "stderr": "boom\n",
        "conditions": [{"type": "Complete", "status": "True", "reason": reason, "message": f"because {reason}"}]}}


@pytest.mark.parametrize("reason", ["Succeeded", "StepFailed"])
def test_results_are_returned(reason):
    task = finished(reason, "Succeeded" if reason == "Succeeded" else "Failed")
    assert check_task(task) is task


def test_timeout_and_execution_errors():
    with pytest.raises(TaskTimeoutError) as timeout:
        check_task(finished("TimedOut"))
    assert isinstance(timeout.value, TimeoutError) and "because TimedOut" in str(timeout.value)
    for reason in ("SandboxNotFound", "SandboxFailed", "AgentUnreachable", "Canceled", "RunnerLost"):
        with pytest.raises(TaskError) as err:
            check_task(finished(reason))
        assert isinstance(err.value, RuntimeError) and err.value.reason == reason
        assert f"because {reason}" in str(err.value)
    # A helper's failed step carries its stderr.
    assert "boom" in str(TaskError(finished("StepFailed")))


def test_api_errors_keep_the_api_exception():
    raw = ApiException(status=422, reason="Unprocessable Entity")
    raw.body = ('{"kind":"Status","message":"Task \\"t\\" is invalid: spec.steps[0].name: Required value",'
                '"details":{"causes":[{"reason":"FieldValueRequired","message":"Required value",'
                '"field":"spec.steps[0].name"},{"reason":"FieldValueInvalid","message":"Invalid value",'
                '"field":"spec.timeout"}]},"code":422}')
    err = wrap_api_exception(raw)
    assert isinstance(err, InvalidError) and isinstance(err, ApiException) and isinstance(err, ValueError)
    assert err.status == 422 and err.body == raw.body
    assert err.fields == ["spec.steps[0].name", "spec.timeout"]
    assert "spec.steps[0].name: Required value" in str(err) and "spec.timeout: Invalid value" in str(err)
    assert wrap_api_exception(err) is err

    gone = ApiException(status=404, reason="Not Found")
    gone.body = b"not json"
    assert isinstance(wrap_api_exception(gone), NotFoundError)
    assert "not json" in str(wrap_api_exception(gone))
    assert type(wrap_api_exception(ApiException(status=500, reason="boom"))) is ApiError


# --- run's NDJSON answer and a terminal's last Status ----------------------------

class FakeResponse:
    def __init__(self, body, cut):
        self.chunks = [body[i:i + cut] for i in range(0, len(body), cut)]
        self.released = self.closed = False

    def stream(self, amt, decode_content=True):
        yield from self.chunks

    def close(self):
        self.closed = True

    def release_conn(self):
        self.released = True


class FakeClient:
    def __init__(self, body, cut):
        self.response = FakeResponse(body, cut)
        self.sent = None

    def path(self, namespace, plural, name, subresource=""):
        return f"/{namespace}/{plural}/{name}/{subresource}"

    def request(self, method, path, query=None, **kwargs):
        self.sent = (method, path, query, kwargs)
        return self.response


def ndjson(*events):
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


@pytest.mark.parametrize("cut", [1, 3, 7, 4096])
def test_run_reads_ndjson_split_anywhere(cut):
    out = base64.b64encode("h\u00e9llo ".encode()).decode()
    body = ndjson({"stdout": out}, {"stderr": base64.b64encode(b"\xff").decode()}, {"stdout": out},
                  {"exitCode": 7, "signal": ""})
    client = FakeClient(body, cut)
    seen = []
    result = run_command(client, "ns", "sbx", "echo hi", stdin="in", on_output=lambda s, d: seen.append((s, d)))
    method, path, query, kwargs = client.sent
    assert (method, path) == ("POST", "/ns/sandboxes/sbx/exec")
    assert query == [("command", "sh"), ("command", "-c"), ("command", "echo hi"), ("stdout", "true"),
                     ("stderr", "true"), ("stdin", "true")]
    assert kwargs["body"] == b"in"
    assert result.stdout == "h\u00e9llo h\u00e9llo " and result.stderr_bytes == b"\xff" and result.stderr == "\ufffd"
    assert result.exit_code == 7 and not result.ok
    assert [s for s, _ in seen] == ["stdout", "stderr", "stdout"]
    assert client.response.released and not client.response.closed


def test_run_stream_errors():
    status = {"kind": "Status", "status": "Failure", "code": 503, "reason": "ServiceUnavailable",
              "message": "the sandbox's agent: gone"}
    with pytest.raises(ApiError) as failed:
        run_command(FakeClient(ndjson({"stdout": "eA=="}, {"error": status}), 5), "ns", "sbx", ["x"])
    assert failed.value.status == 503 and "agent: gone" in str(failed.value)
    cut = FakeClient(ndjson({"stdout": "eA=="}), 5)
    with pytest.raises(ConnectionError):
        run_command(cut, "ns", "sbx", ["x"])
    with pytest.raises(TypeError):
        run_command(cut, "ns", "sbx", [1])
    assert argv("ls -l") == ["sh", "-c", "ls -l"] and argv(("a", "b")) == ["a", "b"]


def test_exit_codes_of_a_terminals_status():
    assert exit_code_of({"status": "Success"}) == (0, None)
    nonzero = {"status": "Failure", "reason": "NonZeroExitCode", "message": "non-zero exit code: 7",
               "details": {"causes": [{"reason": "ExitCode", "message": "7"}]}}
    assert exit_code_of(nonzero) == (7, None)
    code, err = exit_code_of({"status": "Failure", "reason": "InternalError", "code": 500, "message": "agent gone"})
    assert code is None and isinstance(err, ApiError) and "agent gone" in str(err)
    code, err = exit_code_of({"status": "Failure", "reason": "NotFound", "code": 404, "message": "x"})
    assert isinstance(err, NotFoundError)


def test_file_errors_are_typed_by_what_is_missing():
    def refused(code, kind):
        raw = ApiException(status=code, reason="r")
        raw.body = json.dumps({"kind": "Status", "code": code, "message": "m", "details": {"kind": kind}})
        return raw

    missing = wrap_file_exception(refused(404, "sandboxes/files"), "a/b")
    assert isinstance(missing, SandboxFileNotFoundError) and isinstance(missing, FileNotFoundError)
    assert isinstance(missing, NotFoundError) and missing.filename == "a/b" and missing.errno == errno.ENOENT
    sandbox = wrap_file_exception(refused(404, "sandboxes"), "a/b")
    assert type(sandbox) is NotFoundError and not isinstance(sandbox, FileNotFoundError)
    assert isinstance(wrap_file_exception(refused(422, "SandboxFileOptions"), ".."), InvalidError)
    assert isinstance(wrap_file_exception(refused(409, "sandboxes/files"), "d"), ConflictError)

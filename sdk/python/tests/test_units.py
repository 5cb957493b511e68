"""The pure parts: timeouts, names, and how a finished Task maps to the
error contract (the integration tests reach each branch on the server too)."""

import datetime

import pytest
from kubernetes.client.rest import ApiException

from arl import ApiError, InvalidError, NotFoundError, TaskError, TaskTimeoutError, names
from arl.errors import check_task, wrap_api_exception
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

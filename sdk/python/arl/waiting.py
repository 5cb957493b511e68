"""Waiting for one object to reach a state, by watching it (never by polling).

The watch starts at the resourceVersion of the object the caller already has
(a create's answer), so no transition between that answer and the watch is
missed. A watch that the server ends (timeout, 410 Gone, a dropped
connection) is resumed from a fresh GET.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Tuple

import urllib3
from kubernetes import watch
from kubernetes.client.rest import ApiException

from .client import ArlClient
from .errors import wrap_api_exception
from .types import GROUP, VERSION

#: check(obj, deleted) says whether obj is what the caller waits for; it may
#: raise to stop waiting (e.g. the object Failed or was deleted).
Check = Callable[[Dict[str, Any], bool], bool]

#: How long after the server's own watch timeout the client gives up on a
#: silent connection.
_READ_SLACK = 15.0


def wait_for(client: ArlClient, namespace: str, plural: str, current: Dict[str, Any],
             check: Check, deadline: float) -> Tuple[Dict[str, Any], bool]:
    """Watches ``current`` until ``check`` is true or ``deadline`` (a
    ``time.monotonic()`` value) passes. Returns (the last state seen, whether
    check was true)."""
    obj = current
    if check(obj, False):
        return obj, True
    name = obj["metadata"]["name"]
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return obj, False
        # The server's watch timeout is whole seconds; under one second left,
        # the client's read timeout is what ends the wait in time.
        seconds = max(1, int(remaining + 0.999))
        read_timeout = remaining if remaining < 1 else remaining + _READ_SLACK
        w = watch.Watch()
        try:
            for event in w.stream(client.custom.list_namespaced_custom_object, GROUP, VERSION, namespace, plural,
                                  field_selector=f"metadata.name={name}",
                                  resource_version=obj["metadata"]["resourceVersion"],
                                  timeout_seconds=seconds, _request_timeout=(30, read_timeout)):
                kind = event.get("type")
                if kind not in ("ADDED", "MODIFIED", "DELETED"):
                    continue
                obj = event["raw_object"]
                if check(obj, kind == "DELETED"):
                    w.stop()
                    return obj, True
                if time.monotonic() >= deadline:
                    return obj, False
        except ApiException as e:
            if e.status != 410:
                raise wrap_api_exception(e) from None
            obj = _refresh(client, namespace, plural, name, check)
        except urllib3.exceptions.HTTPError:
            obj = _refresh(client, namespace, plural, name, check)
        finally:
            w.stop()
        if check(obj, False):
            return obj, True


def _refresh(client: ArlClient, namespace: str, plural: str, name: str, check: Check) -> Dict[str, Any]:
    """The object now, to resume watching from (a 404 goes to check as deleted)."""
    try:
        return client.get(namespace, plural, name)
    except ApiException as e:
        if e.status == 404:
            gone = {"metadata": {"name": name, "namespace": namespace}}
            check(gone, True)  # raises: waiting for a deleted object is over
        raise

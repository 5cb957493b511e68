"""``WarmPoolManager``: WarmPools from Python (what ``kubectl apply -f
warmpool.yaml``, ``kubectl scale warmpool`` and ``kubectl get warmpool`` do)."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

from kubernetes.client import ApiClient

from .client import ArlClient
from .types import API_VERSION, Scale, WarmPool
from .waiting import wait_for

#: The manual's pool: python:3.9-slim kept alive by ``sleep infinity``, with
#: an emptyDir mounted at /workspace.
DEFAULT_IMAGE = "python:3.9-slim"
DEFAULT_COMMAND = ("sleep", "infinity")


def pod_template(image: str = DEFAULT_IMAGE, command: Sequence[str] = DEFAULT_COMMAND,
                 workspace: Optional[str] = "/workspace", env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The manual's PodTemplateSpec: one ``executor`` container, and an
    emptyDir ``workspace`` volume mounted at ``workspace`` (None: no volume)."""
    container: Dict[str, Any] = {"name": "executor", "image": image, "command": list(command)}
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in env.items()]
    spec: Dict[str, Any] = {"containers": [container]}
    if workspace:
        container["volumeMounts"] = [{"name": "workspace", "mountPath": workspace}]
        spec["volumes"] = [{"name": "workspace", "emptyDir": {}}]
    return {"spec": spec}


class WarmPoolManager:
    """Creates, scales, inspects and deletes the WarmPools of one namespace."""

    def __init__(self, namespace: str = "default", api_client: Optional[ApiClient] = None):
        self.namespace = namespace
        self._client = ArlClient(api_client)

    def create(self, name: str, image: str = DEFAULT_IMAGE, replicas: int = 1, *,
               command: Sequence[str] = DEFAULT_COMMAND, template: Optional[Mapping[str, Any]] = None,
               reuse_policy: Optional[str] = None, labels: Optional[Mapping[str, str]] = None) -> WarmPool:
        """Creates a pool of ``replicas`` idle pods. ``template`` (a full
        PodTemplateSpec) replaces the one built from ``image`` and ``command``;
        ``reuse_policy`` is ``Delete`` (the default) or ``Reset``."""
        spec: Dict[str, Any] = {"replicas": replicas,
                                "template": dict(template) if template is not None else pod_template(image, command)}
        if reuse_policy is not None:
            spec["reusePolicy"] = reuse_policy
        metadata: Dict[str, Any] = {"name": name}
        if labels:
            metadata["labels"] = dict(labels)
        body = {"apiVersion": API_VERSION, "kind": "WarmPool", "metadata": metadata, "spec": spec}
        return self._client.create(self.namespace, "warmpools", body)  # type: ignore[return-value]

    def get(self, name: str) -> WarmPool:
        """The pool, with ``status.replicas``, ``readyReplicas``, ``allocatedReplicas``."""
        return self._client.get(self.namespace, "warmpools", name)  # type: ignore[return-value]

    def list(self, label_selector: Optional[str] = None) -> List[WarmPool]:
        """The namespace's pools."""
        kwargs = {"label_selector": label_selector} if label_selector else {}
        return self._client.list(self.namespace, "warmpools", **kwargs).get("items") or []

    def scale(self, name: str, replicas: int) -> Scale:
        """Sets how many idle pods to keep, through the ``scale`` subresource
        (as ``kubectl scale warmpool NAME --replicas=N``)."""
        return self._client.patch_scale(self.namespace, "warmpools", name, replicas)  # type: ignore[return-value]

    def get_scale(self, name: str) -> Scale:
        """The pool's ``scale`` subresource (autoscaling/v1 Scale)."""
        return self._client.get_scale(self.namespace, "warmpools", name)  # type: ignore[return-value]

    def wait_ready(self, name: str, timeout: float = 300.0) -> WarmPool:
        """The pool once it has observed its latest spec and keeps
        ``spec.replicas`` idle Ready pods (watched, not polled);
        ``TimeoutError`` after ``timeout`` seconds."""

        def ready(pool: Dict[str, Any], deleted: bool) -> bool:
            if deleted:
                raise LookupError(f"warmpool {name} was deleted")
            return _is_ready(pool)

        pool, ok = wait_for(self._client, self.namespace, "warmpools", self.get(name), ready,
                            time.monotonic() + timeout)
        if not ok:
            status = pool.get("status") or {}
            raise TimeoutError(
                f"warmpool {name}: {status.get('readyReplicas', 0)}/{pool['spec'].get('replicas')} "
                f"idle pods Ready after {timeout:g}s")
        return pool  # type: ignore[return-value]

    def delete(self, name: str) -> None:
        """Deletes the pool and its idle pods (already gone is fine)."""
        self._client.delete(self.namespace, "warmpools", name)


def _is_ready(pool: Mapping[str, Any]) -> bool:
    meta, spec, status = pool.get("metadata") or {}, pool.get("spec") or {}, pool.get("status") or {}
    observed = status.get("observedGeneration")
    if observed is not None and observed < meta.get("generation", 0):
        return False
    return status.get("readyReplicas", 0) >= spec.get("replicas", 1)

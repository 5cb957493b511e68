"""What the Python SDK costs: ``SandboxSession`` enter + ``execute([Command
true])`` + exit, p50/p99, next to the floor: the same requests (POST the
Sandbox, POST ``tasks/{name}/exec``, DELETE the Sandbox) made as raw HTTP
calls through the same urllib3 connection pool and credentials, with
json.dumps/json.loads and nothing else. A second ``execute`` in the same
session is timed apart: the first Task of a fresh sandbox also pays for the
server's first connection to that pod's agent, the second is what a Go
client's repeated ``tasks/exec`` (hack/bench/arlbench) measures. Iterations alternate the two,
so both see the same load; each starts with a warm pool (refilled, untimed,
in between), so every enter is a synchronous bind.

Run it with hack/bench/python.sh (docs/performance.md, "Python SDK").
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tests")]

from arl import SandboxSession, WarmPoolManager, load_api_client  # noqa: E402
from arl.types import API_VERSION  # noqa: E402

POOL = "bench-pool"
TRUE = [{"name": "true", "type": "Command", "command": ["true"]}]


def percentile(samples: List[float], p: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(samples)
    return s[max(0, math.ceil(p * len(s)) - 1)]


class Raw:
    """The floor: the session's three requests, by hand."""

    def __init__(self, api_client, namespace: str):
        cfg = api_client.configuration
        self.pool = api_client.rest_client.pool_manager
        self.base = f"{cfg.host}/apis/{API_VERSION}/namespaces/{namespace}"
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = cfg.get_api_key_with_prefix("authorization")
        if token:
            self.headers["Authorization"] = token

    def request(self, method: str, path: str, body: Dict | None = None) -> Dict:
        r = self.pool.request(method, self.base + path, headers=self.headers,
                              body=json.dumps(body) if body is not None else None)
        if r.status >= 300:
            raise RuntimeError(f"{method} {path}: {r.status} {r.data[:300]!r}")
        return json.loads(r.data)

    def session(self) -> List[float]:
        """Runs the requests; the times at which each ended."""
        name = f"{POOL}-raw-{secrets.token_hex(5)}"
        sandbox = self.request("POST", "/sandboxes", {"apiVersion": API_VERSION, "kind": "Sandbox",
                                                      "metadata": {"name": name},
                                                      "spec": {"poolRef": POOL, "keepAlive": True}})
        t1 = time.perf_counter()
        if sandbox["status"].get("phase") != "Ready":
            raise RuntimeError(f"cold bind in the floor: {sandbox['status']}")
        task = f"{name}-1"
        done = self.request("POST", f"/tasks/{task}/exec", {
            "apiVersion": API_VERSION, "kind": "Task", "metadata": {"name": task},
            "spec": {"sandboxRef": name, "steps": TRUE}})
        t2 = time.perf_counter()
        if done["status"]["state"] != "Succeeded":
            raise RuntimeError(f"true failed: {done['status']}")
        again = f"{name}-2"
        self.request("POST", f"/tasks/{again}/exec", {
            "apiVersion": API_VERSION, "kind": "Task", "metadata": {"name": again},
            "spec": {"sandboxRef": name, "steps": TRUE}})
        t3 = time.perf_counter()
        self.request("DELETE", f"/sandboxes/{name}")
        return [t1, t2, t3, time.perf_counter()]


def sdk_session(api_client, namespace: str) -> List[float]:
    """The SDK's session; the times at which enter, execute, the second
    execute and exit ended."""
    session = SandboxSession(POOL, namespace, api_client=api_client)
    session.__enter__()
    t1 = time.perf_counter()
    result = session.execute(TRUE)
    t2 = time.perf_counter()
    session.execute(TRUE)
    t3 = time.perf_counter()
    session.__exit__(None, None, None)
    t4 = time.perf_counter()
    if result["status"]["state"] != "Succeeded":
        raise RuntimeError(f"true failed: {result['status']}")
    return [t1, t2, t3, t4]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kubeconfig", default="", help="server to measure (default: start a standalone one from bin/)")
    ap.add_argument("--namespace", default="arl-bench-py")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--pool-replicas", type=int, default=4)
    args = ap.parse_args()

    server = None
    kubeconfig = args.kubeconfig
    if not kubeconfig:
        from standalone import Standalone
        server = Standalone()
        kubeconfig = server.kubeconfig
    try:
        return run(args, kubeconfig, "standalone (direct to arl-apiserver)" if server else kubeconfig)
    finally:
        if server is not None:
            server.destroy()


def run(args, kubeconfig: str, label: str) -> int:
    api = load_api_client(kubeconfig)
    ns = args.namespace
    created_namespace = False
    cluster = server_has_namespaces(api)
    if cluster:
        from kubernetes import client
        try:
            client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
            created_namespace = True
        except client.ApiException as e:
            if e.status != 409:
                raise
    try:
        return measure(args, api, ns, label, cluster)
    finally:
        if created_namespace:
            cleanup(lambda: client.CoreV1Api(api).delete_namespace(ns), f"namespace {ns}")


def measure(args, api, ns: str, label: str, cluster: bool) -> int:
    pools = WarmPoolManager(ns, api_client=api)
    pods = None
    if cluster:
        from kubernetes import client
        pods = client.CoreV1Api(api)
    pools.delete(POOL)
    pools.create(POOL, replicas=args.pool_replicas)
    try:
        pools.wait_ready(POOL, timeout=600)
        raw = Raw(api, ns)
        variants: Dict[str, Callable[[], List[float]]] = {"sdk": lambda: sdk_session(api, ns), "raw": raw.session}
        # samples[variant] = [(enter, execute, exit, session, execute again, client CPU), ...] in seconds
        samples: Dict[str, List[List[float]]] = {"sdk": [], "raw": []}
        for i in range(args.warmup + args.iterations):
            order = ["sdk", "raw"] if i % 2 == 0 else ["raw", "sdk"]
            for which in order:
                refill(pools, args.pool_replicas, pods)
                c0, t0 = time.process_time(), time.perf_counter()
                t1, t2, t3, t4 = variants[which]()
                cpu = time.process_time() - c0
                if i >= args.warmup:
                    # The session is enter + execute + exit; the second
                    # execute (t2..t3) is reported apart and not counted in it.
                    samples[which].append([t1 - t0, t2 - t1, t4 - t3, (t2 - t0) + (t4 - t3), t3 - t2, cpu])
        # Tasks in one long-lived sandbox, away from bind and delete churn:
        # what hack/bench/arlbench's "Task `true` via tasks/exec" row measures.
        steady: Dict[str, List[float]] = {"sdk": [], "raw": []}
        with SandboxSession(POOL, ns, api_client=api) as session:
            def sdk_exec() -> None:
                session.execute(TRUE)

            def raw_exec() -> None:
                task = f"{session.name}-raw-{secrets.token_hex(4)}"
                raw.request("POST", f"/tasks/{task}/exec", {
                    "apiVersion": API_VERSION, "kind": "Task", "metadata": {"name": task},
                    "spec": {"sandboxRef": session.name, "steps": TRUE}})

            calls = {"sdk": sdk_exec, "raw": raw_exec}
            for i in range(args.warmup + args.iterations):
                for which in (["sdk", "raw"] if i % 2 == 0 else ["raw", "sdk"]):
                    t0 = time.perf_counter()
                    calls[which]()
                    if i >= args.warmup:
                        steady[which].append(time.perf_counter() - t0)
    finally:
        cleanup(lambda: pools.delete(POOL), f"warmpool {POOL}")

    print(f"# Python SDK benchmark: {label}, {args.iterations} iterations, "
          f"load average {' '.join(open('/proc/loadavg').read().split()[:3])}\n")
    print("| what | n | SDK p50 | SDK p99 | raw HTTP p50 | raw HTTP p99 | SDK − raw, p50 |")
    print("|---|---|---|---|---|---|---|")
    what = ["enter: POST sandboxes (Ready in the answer)", "execute([Command true]): POST tasks/{name}/exec",
            "exit: DELETE the sandbox", "**session: enter + execute + exit**",
            "execute again: a 2nd Task in the same sandbox", "client CPU per session, both Tasks (this process)"]
    for k, label_k in enumerate(what):
        sdk = [x[k] for x in samples["sdk"]]
        floor = [x[k] for x in samples["raw"]]
        print(f"| {label_k} | {len(sdk)} | {ms(percentile(sdk, .5))} | {ms(percentile(sdk, .99))} | "
              f"{ms(percentile(floor, .5))} | {ms(percentile(floor, .99))} | "
              f"{(percentile(sdk, .5) - percentile(floor, .5)) * 1e3:+.2f} ms |")
    sdk, floor = steady["sdk"], steady["raw"]
    print(f"| execute([Command true]) in one long-lived sandbox | {len(sdk)} | {ms(percentile(sdk, .5))} | "
          f"{ms(percentile(sdk, .99))} | {ms(percentile(floor, .5))} | {ms(percentile(floor, .99))} | "
          f"{(percentile(sdk, .5) - percentile(floor, .5)) * 1e3:+.2f} ms |")
    return 0


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def cleanup(delete: Callable[[], object], what: str) -> None:
    """Deletes what the run created; a failure is reported, not raised, so
    it cannot hide the error that ended the run."""
    try:
        delete()
    except Exception as e:  # noqa: BLE001
        print(f"could not delete {what}: {e}", file=sys.stderr)


def refill(pools: WarmPoolManager, replicas: int, pods=None) -> None:
    """Waits (untimed) until the pool has its idle pods again.

    In a cluster the pods themselves say it (``pods``: a CoreV1Api): the
    pool's status trails the binds by more than a session takes there.
    Standalone has no pods API; its status keeps up, and the pool refills
    in milliseconds.
    """
    if pods is None:
        if (pools.get(POOL).get("status") or {}).get("readyReplicas", 0) < replicas:
            pools.wait_ready(POOL, timeout=600)
        return
    from kubernetes import watch
    selector = pools.get_scale(POOL)["status"]["selector"]  # the pool's idle pods
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        listed = pods.list_namespaced_pod(pools.namespace, label_selector=selector)
        if sum(map(_ready, listed.items)) >= replicas:
            return
        for _ in watch.Watch().stream(pods.list_namespaced_pod, pools.namespace, label_selector=selector,
                                      resource_version=listed.metadata.resource_version, timeout_seconds=5):
            break  # something changed: count again
    raise TimeoutError(f"{POOL} did not get {replicas} idle Ready pods back")


def _ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def server_has_namespaces(api) -> bool:
    """Standalone serves only arl.infra.io; a cluster needs the namespace."""
    from kubernetes import client
    try:
        client.CoreV1Api(api).read_namespace("default")
        return True
    except client.ApiException:
        return False


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""tasks/{name}/log latency through kube-apiserver, answered by any replica.

kube-apiserver sends each request to either arl-apiserver replica. The log
of a finished Task as text (its status) is answered by whichever replica
gets the request; its exact bytes (?raw=true) only by the replica that ran
it, which the other one asks (package peers). The raw rows are therefore
half local and half forwarded: the upper quartiles show the extra hop.

Usage (test cluster up, KUBECONFIG set; Debian's python3):
    /usr/bin/python3 hack/bench/tasklog.py [requests]
"""
import subprocess
import sys
import time
import uuid

from kubernetes import client, config

MANIFESTS = """
apiVersion: arl.infra.io/v1alpha1
kind: WarmPool
metadata: {name: p}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: executor, image: python:3.9-slim, command: ["sleep", "infinity"]}]
---
apiVersion: arl.infra.io/v1alpha1
kind: Sandbox
metadata: {name: sb}
spec: {poolRef: p, keepAlive: true}
"""

TASK = """
apiVersion: arl.infra.io/v1alpha1
kind: Task
metadata: {name: t}
spec:
  sandboxRef: sb
  steps: [{name: s, type: Command, command: ["seq", "1", "200"]}]
"""


def kubectl(ns, *args, stdin=None):
    subprocess.run(["kubectl", "-n", ns, *args], input=stdin, text=True, check=True, capture_output=True)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    ns = "bench-log-" + uuid.uuid4().hex[:6]
    subprocess.run(["kubectl", "create", "namespace", ns], check=True, capture_output=True)
    try:
        kubectl(ns, "apply", "-f", "-", stdin=MANIFESTS)
        kubectl(ns, "wait", "sandbox/sb", "--for=condition=Ready", "--timeout=180s")
        kubectl(ns, "create", "-f", "-", stdin=TASK)
        kubectl(ns, "wait", "task/t", "--for=jsonpath={.status.state}=Succeeded", "--timeout=60s")

        config.load_kube_config()
        api = client.ApiClient()
        path = f"/apis/arl.infra.io/v1alpha1/namespaces/{ns}/tasks/t/log"

        def get(query):
            t0 = time.perf_counter()
            resp = api.call_api(path, "GET", query_params=query, auth_settings=["BearerToken"], _preload_content=False)
            (resp[0] if isinstance(resp, tuple) else resp).data
            return (time.perf_counter() - t0) * 1000

        for query, name in (([("raw", "false")], "status text (any replica answers)"),
                            ([("raw", "true")], "raw=true (the runner answers; the other replica forwards)")):
            for _ in range(20):
                get(query)
            xs = sorted(get(query) for _ in range(n))
            q = lambda f: xs[max(0, int(f * len(xs)) - 1)]
            print(f"{name}: p25 {q(.25):.2f} ms, p50 {q(.5):.2f} ms, p75 {q(.75):.2f} ms, p99 {q(.99):.2f} ms")
    finally:
        subprocess.run(["kubectl", "delete", "namespace", ns, "--wait=false"], capture_output=True)


if __name__ == "__main__":
    main()

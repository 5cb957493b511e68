#!/usr/bin/env bash
# The Python SDK row of docs/performance.md ("Python SDK"): SandboxSession
# enter + execute([Command true]) + exit, p50/p99, next to the same three
# requests as raw HTTP calls through the same connections (the floor), in
# the same run. Without --kubeconfig it starts a standalone arl-apiserver
# from bin/ (hack/build.sh) and removes it after.
# Usage: hack/bench/python.sh [--iterations N] [--kubeconfig FILE] [--pool-replicas N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "${ARL_ROOT}"

# Debian's python3-kubernetes: the pyenv python first on PATH cannot see it.
arl::apt_ensure python3-kubernetes
arl::log "Python SDK benchmark (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
exec /usr/bin/python3 sdk/python/bench/session_bench.py "$@"

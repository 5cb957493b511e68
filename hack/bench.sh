#!/usr/bin/env bash
# `make bench`: every benchmark with p50/p99 against its floor
# (docs/performance.md has the results and how to read them).
#   hack/bench.sh              standalone server (started from bin/) + sidecar + Python SDK
#   hack/bench.sh cluster      the same through the test cluster's aggregation layer
# Extra arguments go to arlbench (e.g. --binds 500 --rate 50).
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

target="${1:-standalone}"
[ $# -gt 0 ] && shift
"${ARL_ROOT}/hack/build.sh"
go build -o bin/arlbench ./hack/bench/arlbench

case "${target}" in
  standalone)
    arl::timed "arlbench (standalone)" bin/arlbench "$@"
    arl::timed "sidecar" "${ARL_ROOT}/hack/bench/sidecar.sh"
    if [ -x "${ARL_ROOT}/hack/bench/python.sh" ]; then
      arl::timed "python SDK" "${ARL_ROOT}/hack/bench/python.sh"
    fi
    ;;
  cluster)
    "${ARL_ROOT}/hack/cluster/status.sh" >/dev/null 2>&1 || "${ARL_ROOT}/hack/cluster/up.sh"
    eval "$("${ARL_ROOT}/hack/cluster/env.sh")"
    arl::timed "arlbench (aggregated)" bin/arlbench --kubeconfig "${KUBECONFIG}" --label "through kube-apiserver's aggregation layer" "$@"
    ;;
  *) arl::die "usage: hack/bench.sh [standalone|cluster] [arlbench flags]" ;;
esac

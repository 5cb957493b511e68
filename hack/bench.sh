#!/usr/bin/env bash
# `make bench`: every benchmark with p50/p99 against its floor
# (docs/performance.md has the results and how to read them).
#   hack/bench.sh              standalone server (started from bin/) + sidecar + Python SDK
#   hack/bench.sh cluster      the same through the test cluster's aggregation layer
#   hack/bench.sh direct       the same against arl-apiserver's Service, no aggregation
#                              (the in-cluster endpoint of docs/operations.md)
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
    # Sized for one 2-core node: every bind makes the pool start a pod, and
    # 64 sandboxes plus their refill exceed the node's 110 pods. Inside the
    # cluster's network namespace, so the raw sidecar floor reaches pod IPs.
    arl::timed "arlbench (aggregated)" ip netns exec "${ARL_CLUSTER_NETNS}" bin/arlbench \
      --kubeconfig "${KUBECONFIG}" --label "through kube-apiserver's aggregation layer" \
      --pool-replicas 30 --binds 40 --rate 1 --burst 30 --concurrency 1,16 "$@"
    ;;
  direct)
    "${ARL_ROOT}/hack/cluster/status.sh" >/dev/null 2>&1 || "${ARL_ROOT}/hack/cluster/up.sh"
    eval "$("${ARL_ROOT}/hack/cluster/env.sh")"
    # ARL's requests go to the Service's ClusterIP with the admin's
    # credentials (arl-apiserver trusts kube-apiserver's client CA, and asks
    # kube-apiserver about a ServiceAccount token), checked against the
    # APIService's caBundle; the rest still goes to kube-apiserver.
    ca="$(mktemp)"
    trap 'rm -f "${ca}"' EXIT
    kubectl get apiservice v1alpha1.arl.infra.io -o jsonpath='{.spec.caBundle}' | base64 -d > "${ca}"
    ip="$(kubectl get service -n arl-system arl-apiserver -o jsonpath='{.spec.clusterIP}')"
    arl::timed "arlbench (direct)" ip netns exec "${ARL_CLUSTER_NETNS}" bin/arlbench \
      --kubeconfig "${KUBECONFIG}" --arl-server "https://${ip}:443" --arl-ca-file "${ca}" \
      --label "direct to arl-apiserver's Service (no aggregation)" \
      --pool-replicas 30 --binds 40 --rate 1 --burst 30 --concurrency 1,16 "$@"
    ;;
  *) arl::die "usage: hack/bench.sh [standalone|cluster|direct] [arlbench flags]" ;;
esac

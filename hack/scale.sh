#!/usr/bin/env bash
# `make test-scale`: ARL at fleet scale (issue 15; results in
# docs/performance.md, "Fleet scale"). Not part of `make test`: about half
# an hour on 2 cores.
#
# On the test cluster (brought up if it is not), kwok (built from the Go
# module proxy, hack/kwok) simulates nodes and their pods, so a warm pool of
# 10,000 pods fits this machine; arl-apiserver runs 3 replicas, every one
# binding. bin/arlscale then fills the pool, binds bursts of 300 and 1,000
# through kube-apiserver's aggregation layer, binds steadily for a minute,
# holds 10,000 Sandboxes and 100,000 finished Tasks, weighs the servers, and
# binds while the Tasks' TTL deletes them; it fails on any double bind.
# Everything it creates is deleted again on exit; the cluster stays up.
#
# Usage: hack/scale.sh [arlscale flags]
#   hack/scale.sh --pods 1000 --bursts 100,300 --sandboxes 2000 --tasks 5000 --task-ttl 2m   (a quick look)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cluster/lib.sh"
cd "${ARL_ROOT}"

"${ARL_ROOT}/hack/build.sh"
"${ARL_ROOT}/hack/cluster/k8s-bins.sh" kwok
go build -trimpath -o bin/arlscale ./hack/bench/arlscale
"${ARL_ROOT}/hack/cluster/status.sh" >/dev/null 2>&1 || "${ARL_ROOT}/hack/cluster/up.sh"
eval "$("${ARL_ROOT}/hack/cluster/env.sh")"
namespace=arl-scale
replicas_before="$(kubectl -n arl-system get deployment arl-apiserver -o jsonpath='{.spec.replicas}')"
# An earlier run's namespace may still be terminating (its 20,000 pods take
# kwok ~20 minutes): nothing can be created in it until it is gone.
arl::wait_for "the namespace ${namespace} of an earlier run deleted" 1800 \
  bash -c "! kubectl get namespace ${namespace} >/dev/null 2>&1" || arl::die "namespace ${namespace} is still there"

cleanup() {
  arl::log "scale: deleting the suite's objects (kwok deletes its pods), then its nodes"
  # The pool first: its deletion deletes its pods. The namespace's deletion
  # then takes the Sandboxes and Tasks a collection at a time (kubectl
  # deleted 100,000 Tasks one request each, ~25 minutes, the pool behind them).
  kubectl -n "${namespace}" delete warmpools --all --wait=false >/dev/null 2>&1 || true
  kubectl delete namespace "${namespace}" --wait=false >/dev/null 2>&1 || true
  arl::wait_for "the suite's pods deleted" 900 \
    bash -c "[ \"\$(kubectl get pods -n ${namespace} --no-headers 2>/dev/null | wc -l)\" = 0 ]" || true
  kubectl delete nodes -l arl.infra.io/scale-node --wait=false >/dev/null 2>&1 || true
  local pid; pid="$(cat "$(arl::pidfile kwok)" 2>/dev/null || true)"
  [ -z "${pid}" ] || kill -TERM "${pid}" 2>/dev/null || true
  rm -f "$(arl::pidfile kwok)"
  kubectl -n arl-system scale deployment arl-apiserver --replicas "${replicas_before}" >/dev/null || true
}
trap cleanup EXIT

# kwok's node and pod lifecycles are the stage definitions its own module
# ships (fast start, node leases): read from the module cache, not copied.
kwok_dir="$(cd "${ARL_ROOT}/hack/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
config="${ARL_CLUSTER_DIR}/kwok.yaml"
for f in "${kwok_dir}"/kustomize/stage/node/fast/node-initialize.yaml \
         "${kwok_dir}"/kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
         "${kwok_dir}"/kustomize/stage/pod/fast/pod-{ready,complete,delete}.yaml; do
  echo ---; cat "$f"
done > "${config}"
# Pod IPs from a /16 nothing else uses (the real pods have 10.244.77.0/24).
# kwok stands in for the kubelets of 20 nodes, which in a real cluster do not
# share the control plane's CPU: at the lowest priority it takes what the
# servers under test leave (it once took 0.4 of the 2 cores for minutes,
# beside binds measured during the TTL cleanup).
arl::start kwok nice -n 19 "$(arl::kwok_bin_dir)/kwok" --kubeconfig="${ARL_KUBECONFIG}" --config="${config}" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
  --cidr=10.250.0.1/16 --node-ip="${ARL_NODE_IP}" --node-lease-duration-seconds=40
sleep 2
arl::check_alive kwok

kubectl -n arl-system scale deployment arl-apiserver --replicas 3 >/dev/null
kubectl -n arl-system rollout status deployment arl-apiserver --timeout=5m >/dev/null

mkdir -p "${ARL_CACHE}/scale"
out="${ARL_CACHE}/scale/$(date -u +%Y%m%dT%H%M%SZ).md"
arl::log "scale: results also in ${out}"
arl::timed "arlscale" bin/arlscale --kubeconfig "${ARL_KUBECONFIG}" --namespace "${namespace}" "$@" | tee "${out}"

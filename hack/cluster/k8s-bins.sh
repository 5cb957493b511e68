#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kubectl (Kubernetes v1.37.2) and etcd (v3.7.0, the version Kubernetes pins)
# from the Go module proxy, using the tool module hack/k8s-bins. Cached under
# ~/.cache/arl/k8s-bins/<version>-<hash of go.sum, go.mod, Go version, flags>/.
# Each binary gets its own stamp, so an interrupted build resumes where it
# stopped. Our own test-cluster tools (hack/k8s-bins/cmd: arl-pause,
# arl-svcproxy) are built the same way, keyed by their sources as well.
#
# etcdctl and etcdutl (v3.7.0, for the etcd image: backups are restored
# with etcdutl) come from their own tool module, hack/etcd-tools; kwok (the
# scale suite's simulated nodes, not built by default) from hack/kwok.
#
# Usage: hack/cluster/k8s-bins.sh [binary...]   (default: all)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want=("$@"); [ "${#want[@]}" -gt 0 ] || want=("${K8S_BINS[@]}" "${TOOL_BINS[@]}" "${ETCD_TOOL_BINS[@]}")

pkg_of() {
  case "$1" in
    etcd)  echo "go.etcd.io/etcd/server/v3" ;;
    etcdctl|etcdutl) echo "go.etcd.io/etcd/$1/v3" ;;
    kwok)  echo "sigs.k8s.io/kwok/cmd/kwok" ;;
    arl-*) echo "./cmd/$1" ;;
    *)     echo "k8s.io/kubernetes/cmd/$1" ;;
  esac
}
dir_of() {
  case "$1" in
    arl-*) arl::tools_bin_dir ;;
    etcdctl|etcdutl) arl::etcd_tools_bin_dir ;;
    kwok)  arl::kwok_bin_dir ;;
    *)     arl::k8s_bin_dir ;;
  esac
}
module_of() {
  case "$1" in
    etcdctl|etcdutl) echo "${ARL_ROOT}/hack/etcd-tools" ;;
    kwok)            echo "${ARL_ROOT}/hack/kwok" ;;
    *)               echo "${ARL_ROOT}/hack/k8s-bins" ;;
  esac
}

vpkg=k8s.io/component-base/version
ldflags="-s -w -X ${vpkg}.gitVersion=${K8S_VERSION} -X ${vpkg}.gitMajor=1 -X ${vpkg}.gitMinor=37 -X ${vpkg}.gitTreeState=clean -X ${vpkg}.buildDate=1970-01-01T00:00:00Z"

for b in "${want[@]}"; do
  cd "$(module_of "$b")"
  bin_dir="$(dir_of "$b")"
  mkdir -p "${bin_dir}"
  if [ -x "${bin_dir}/${b}" ] && [ -f "${bin_dir}/.${b}.stamp" ]; then
    continue
  fi
  arl::log "building ${b} (cold: minutes; kube-apiserver ~10 min on 2 cores)"
  start=$SECONDS
  flags=(-trimpath -o "${bin_dir}/${b}.tmp")
  case "$b" in
    etcd*|arl-*|kwok) flags+=(-ldflags "-s -w") ;;
    *)          flags+=(-ldflags "${ldflags}") ;;
  esac
  # nice: the machine is shared; the build is the long pole, not the hurry.
  nice -n 10 go build "${flags[@]}" "$(pkg_of "$b")"
  mv -f "${bin_dir}/${b}.tmp" "${bin_dir}/${b}"
  echo "$((SECONDS - start))s $(date -u +%FT%TZ) $(go env GOVERSION)" > "${bin_dir}/.${b}.stamp"
  arl::log "built ${b} in $((SECONDS - start))s"
done

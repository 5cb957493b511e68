#!/usr/bin/env bash
# Shared settings for hack/cluster/*.sh. Source it after hack/lib/common.sh.
# Everything the test cluster writes lives under ARL_CLUSTER_DIR (state, logs,
# certificates, pids); everything it builds lives under ARL_CACHE keyed by
# version + go.sum hash + Go version.

# shellcheck source=../lib/common.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)/lib/common.sh"

K8S_VERSION="v1.37.2"
ETCD_VERSION="v3.7.0"          # what k8s.io/kubernetes v1.37.2 pins; also the arl-etcd image tag
K8S_BINS=(kube-apiserver etcd kubelet kube-scheduler kube-controller-manager kubectl)
# Our own small test-cluster tools, in the same tool module (hack/k8s-bins/cmd).
TOOL_BINS=(arl-pause arl-svcproxy)
# etcd's client tools, in the etcd image (their own tool module, hack/etcd-tools).
ETCD_TOOL_BINS=(etcdctl etcdutl)

ARL_CLUSTER_DIR="${ARL_CLUSTER_DIR:-${ARL_CACHE}/cluster}"
ARL_CLUSTER_LOGS="${ARL_CLUSTER_DIR}/logs"
ARL_CLUSTER_PIDS="${ARL_CLUSTER_DIR}/pids"
ARL_CLUSTER_PKI="${ARL_CLUSTER_DIR}/pki"
export ARL_CLUSTER_DIR

# Network: the whole cluster (etcd, control plane, containerd, kubelet, pods'
# bridge) lives in its own network namespace ARL_NETNS, joined to this host by
# one veth pair. Its ports cannot clash with anything on the host, no address
# of it is on the host's interfaces but the host end of the veth, and
# cluster-down removes it all by deleting the namespace.
ARL_NETNS="arl-cluster"
ARL_VETH_HOST="arl-h0"
ARL_VETH_NODE="arl-n0"
ARL_HOST_IP="10.244.254.1"      # host end of the veth
ARL_NODE_IP="10.244.254.2"      # the node's address (kubelet --node-ip, kube-apiserver advertise, cluster DNS)
ARL_KAS_PORT=6443
ARL_KAS_URL="https://${ARL_NODE_IP}:${ARL_KAS_PORT}"
ARL_NODE_NAME="arl-node"
# Pod network: a Linux bridge with host-local IPAM on a /24 nothing else uses.
ARL_BRIDGE="arl-br0"
ARL_POD_CIDR="10.244.77.0/24"
ARL_POD_GW="10.244.77.1"
ARL_SERVICE_CIDR="10.96.0.0/16"
ARL_CNI_NET="arl-pods"
ARL_CONTAINERD_ROOT="${ARL_CLUSTER_DIR}/containerd"
ARL_CONTAINERD_STATE="/run/arl-containerd"
ARL_CONTAINERD_SOCK="${ARL_CONTAINERD_STATE}/containerd.sock"
ARL_KUBELET_ROOT="${ARL_CLUSTER_DIR}/kubelet"
ARL_POD_LOGS="${ARL_CLUSTER_DIR}/pod-logs"
ARL_KUBECONFIG="${ARL_CLUSTER_DIR}/admin.kubeconfig"
ARL_PAUSE_IMAGE="registry.k8s.io/pause:3.10"

# arl::in_netns CMD...: runs CMD in the cluster's network namespace (network
# only: same mounts, same cgroups, so kubelet and containerd see each other's
# mounts as they must).
arl::in_netns() { nsenter --net="/run/netns/${ARL_NETNS}" -- "$@"; }

# arl::ctr ARGS...: containerd's ctr on the cluster's socket, Kubernetes namespace.
arl::ctr() { ctr --address "${ARL_CONTAINERD_SOCK}" --namespace k8s.io "$@"; }

# arl::cluster_lock: serializes up.sh, down.sh and deploy.sh of this machine's
# one test cluster (several engineers' `make test` may share the machine).
arl::cluster_lock() {
  # Held by a parent script (up.sh running down.sh, deploy.sh): nothing to do.
  [ -z "${ARL_CLUSTER_LOCKED:-}" ] || return 0
  export ARL_CLUSTER_LOCKED=$$
  mkdir -p "${ARL_CACHE}"
  exec 9>"${ARL_CACHE}/cluster.lock"
  if ! flock -n 9; then
    arl::log "waiting for another hack/cluster script (lock ${ARL_CACHE}/cluster.lock)"
    flock 9
  fi
}

arl::go_env_key() {
  # go version + GOFLAGS + tags affect the binaries
  printf '%s|%s|%s' "$(go env GOVERSION)" "${GOFLAGS:-}" "${CGO_ENABLED:-}"
}

# arl::k8s_bin_dir prints the cache directory of the Kubernetes binaries for the
# current tool module (hack/k8s-bins go.sum) and Go toolchain.
arl::k8s_bin_dir() {
  local key
  key="$( { printf '%s|%s|' "${K8S_VERSION}" "${ETCD_VERSION}"; arl::go_env_key;
            cat "${ARL_ROOT}/hack/k8s-bins/go.sum" "${ARL_ROOT}/hack/k8s-bins/go.mod"; } | sha256sum | cut -c1-16)"
  printf '%s/k8s-bins/%s-%s/bin' "${ARL_CACHE}" "${K8S_VERSION}" "${key}"
}

# arl::tools_bin_dir: the cache directory of hack/k8s-bins/cmd/* builds, keyed
# by their sources too (so editing them does not invalidate the Kubernetes build).
arl::tools_bin_dir() {
  local key
  key="$( { arl::go_env_key; cat "${ARL_ROOT}/hack/k8s-bins/go.sum";
            find "${ARL_ROOT}/hack/k8s-bins/cmd" -type f -name '*.go' | LC_ALL=C sort | xargs cat; } | sha256sum | cut -c1-16)"
  printf '%s/k8s-bins/tools-%s/bin' "${ARL_CACHE}" "${key}"
}

# arl::etcd_tools_bin_dir: the cache directory of etcdctl and etcdutl, built
# from their own tool module (hack/etcd-tools), keyed by it.
arl::etcd_tools_bin_dir() {
  local key
  key="$( { arl::go_env_key; cat "${ARL_ROOT}/hack/etcd-tools/go.sum" "${ARL_ROOT}/hack/etcd-tools/go.mod"; } | sha256sum | cut -c1-16)"
  printf '%s/k8s-bins/etcd-tools-%s/bin' "${ARL_CACHE}" "${key}"
}

# arl::kwok_bin_dir: the cache directory of kwok (hack/kwok), keyed by it.
arl::kwok_bin_dir() {
  local key
  key="$( { arl::go_env_key; cat "${ARL_ROOT}/hack/kwok/go.sum" "${ARL_ROOT}/hack/kwok/go.mod"; } | sha256sum | cut -c1-16)"
  printf '%s/k8s-bins/kwok-%s/bin' "${ARL_CACHE}" "${key}"
}

arl::pidfile() { printf '%s/%s.pid' "${ARL_CLUSTER_PIDS}" "$1"; }

# arl::alive PID: the process exists and is not a zombie (daemons are
# reparented to init once up.sh exits, which may reap them seconds later).
arl::alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "${state}" ] && [ "${state}" != Z ] && [ "${state}" != X ]
}

# arl::running NAME: the process recorded in NAME's pid file is alive.
arl::running() {
  local f
  f="$(arl::pidfile "$1")"
  [ -s "$f" ] || return 1
  arl::alive "$(cat "$f")"
}

# arl::wait_for DESC SECONDS CMD...: polls CMD every 0.5 s until it succeeds.
arl::wait_for() {
  local desc="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      arl::log "timed out after ${secs}s waiting for ${desc}"
      return 1
    fi
    sleep 0.5
  done
}

# arl::start NAME CMD...: starts a daemon in the cluster's network namespace,
# in its own session, logging to logs/NAME.log; records its PID, and its
# command line (NAME.cmd, one argument a line) for hack/cluster/restart.sh.
arl::start() {
  local name="$1"; shift
  if arl::running "${name}"; then return 0; fi
  mkdir -p "${ARL_CLUSTER_LOGS}" "${ARL_CLUSTER_PIDS}"
  # A restart (ARL_APPEND_LOG=1) adds to the log; a new cluster starts it anew.
  [ "${ARL_APPEND_LOG:-0}" = 1 ] || : > "${ARL_CLUSTER_LOGS}/${name}.log"
  printf '%s\n' "$@" > "${ARL_CLUSTER_PIDS}/${name}.cmd"
  # 9>&-: the daemon must not inherit (and so hold) the cluster lock.
  setsid nsenter --net="/run/netns/${ARL_NETNS}" -- "$@" \
    >>"${ARL_CLUSTER_LOGS}/${name}.log" 2>&1 </dev/null 9>&- &
  echo $! > "$(arl::pidfile "${name}")"
}

# arl::check_alive NAME: fails with the end of the daemon's log if it died.
arl::check_alive() {
  arl::running "$1" && return 0
  tail -25 "${ARL_CLUSTER_LOGS}/$1.log" >&2 || true
  arl::die "$1 exited (log: ${ARL_CLUSTER_LOGS}/$1.log)"
}

# arl::wait_daemon NAME SECONDS DESC CMD...: waits for CMD, failing early if NAME dies.
arl::wait_daemon() {
  local name="$1" secs="$2" desc="$3"; shift 3
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    arl::check_alive "${name}"
    [ "$SECONDS" -lt "$deadline" ] || { tail -25 "${ARL_CLUSTER_LOGS}/${name}.log" >&2; arl::die "timed out after ${secs}s waiting for ${desc}"; }
    sleep 0.3
  done
}

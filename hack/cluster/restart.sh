#!/usr/bin/env bash
# Restarts one daemon of the running test cluster, with the command line
# up.sh started it with, and waits until it is healthy again: what the
# chaos tests (test/e2e) do to kube-apiserver, kubelet and containerd, and
# what up.sh does to an arl-svcproxy that was rebuilt. Containers outlive a
# kubelet or containerd restart (their shims keep them), as on a real node.
#
#   hack/cluster/restart.sh NAME                 (etcd kube-apiserver kube-controller-manager
#                                                 kube-scheduler containerd arl-svcproxy kubelet)
#   hack/cluster/restart.sh NAME --cmd CMD...    start CMD instead of the recorded command
#
# Prints "restarted NAME: down Xs, healthy after Ys".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
arl::cluster_lock

name="${1:?usage: restart.sh NAME [--cmd CMD...]}"; shift
if [ "${1:-}" = --cmd ]; then
  shift; cmd=("$@")
elif [ -s "${ARL_CLUSTER_PIDS}/${name}.cmd" ]; then
  mapfile -t cmd < "${ARL_CLUSTER_PIDS}/${name}.cmd"
elif arl::running "${name}"; then
  # Started before up.sh recorded command lines: the process's own.
  mapfile -d '' -t cmd < "/proc/$(cat "$(arl::pidfile "${name}")")/cmdline"
else
  arl::die "no command line for ${name}: not running and none recorded (${ARL_CLUSTER_PIDS}/${name}.cmd)"
fi
PKI="${ARL_CLUSTER_PKI}"

healthy() {
  case "${name}" in
    etcd) arl::in_netns curl -fsS http://127.0.0.1:2381/health ;;
    kube-apiserver) curl -fsS --max-time 2 --cacert "${PKI}/ca.crt" --cert "${PKI}/admin.crt" --key "${PKI}/admin.key" "${ARL_KAS_URL}/readyz" ;;
    kube-controller-manager) arl::in_netns curl -kfsS https://127.0.0.1:10257/healthz ;;
    kube-scheduler) arl::in_netns curl -kfsS https://127.0.0.1:10259/healthz ;;
    containerd) arl::ctr version ;;
    kubelet) arl::in_netns curl -fsS http://127.0.0.1:10248/healthz ;;
    arl-svcproxy) tail -n +"$((log_lines + 1))" "${ARL_CLUSTER_LOGS}/${name}.log" | grep -q 'ready$' ;;
    *) arl::die "unknown daemon ${name}" ;;
  esac
}

start=$SECONDS
log_lines="$(wc -l < "${ARL_CLUSTER_LOGS}/${name}.log" 2>/dev/null || echo 0)"
pidfile="$(arl::pidfile "${name}")"
if [ -s "${pidfile}" ]; then
  pid="$(cat "${pidfile}")"
  if arl::alive "${pid}"; then
    kill -TERM "${pid}" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do arl::alive "${pid}" || break; sleep 0.1; done
    if arl::alive "${pid}"; then
      arl::log "${name} (pid ${pid}) did not stop in 15s: SIGKILL"
      kill -KILL "${pid}" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do arl::alive "${pid}" || break; sleep 0.1; done
    fi
  fi
  rm -f "${pidfile}"
fi
down=$((SECONDS - start))
ARL_APPEND_LOG=1 arl::start "${name}" "${cmd[@]}"
arl::wait_daemon "${name}" 120 "${name} to be healthy again" healthy
echo "restarted ${name}: down ${down}s, healthy after $((SECONDS - start))s"

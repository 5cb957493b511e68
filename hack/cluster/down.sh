#!/usr/bin/env bash
# Stops the test cluster and leaves nothing behind: every process it started
# (by the PIDs it recorded), the containers and their shims (by the PIDs in
# kubelet's cgroups and of the shims serving our containerd socket), mounts
# under the cluster's directories, the kubepods cgroups, the network namespace
# (veth, bridge, pod network namespaces) and the cluster's state. Kept: the
# build caches (binaries, images, certificates, containerd's image store).
# Safe to run when nothing is up.
#
#   hack/cluster/down.sh            stop and clean
#   hack/cluster/down.sh --purge    also drop containerd's image store and the certificates
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
arl::cluster_lock

purge=0
[ "${1:-}" = "--purge" ] && purge=1

# stop NAME [SECONDS]: SIGTERM the recorded PID, SIGKILL after SECONDS.
stop() {
  local name="$1" secs="${2:-10}" f pid i
  f="$(arl::pidfile "${name}")"
  [ -s "$f" ] || { rm -f "$f"; return 0; }
  pid="$(cat "$f")"
  # Only if the PID is still the process we started (its command line names it).
  if arl::alive "${pid}" && { tr '\0' ' ' < "/proc/${pid}/cmdline"; } 2>/dev/null | grep -q -- "${name#arl-}"; then
    kill -TERM "${pid}" 2>/dev/null
    for ((i = 0; i < secs * 10; i++)); do arl::alive "${pid}" || break; sleep 0.1; done
    if arl::alive "${pid}"; then
      arl::log "${name} (pid ${pid}) did not stop in ${secs}s: SIGKILL"
      kill -KILL "${pid}" 2>/dev/null
    fi
  fi
  rm -f "$f"
}

# kubelet first, so it does not restart what is being removed.
arl::log "stopping kubelet"
stop kubelet 15

# Containers: through containerd while it runs (kill tasks, delete them and
# their containers, so the shims exit and snapshots are collected).
# Pod sandbox and container IDs of our containerd, from its store on disk
# (also when it is dead): their shim sockets and CNI cache entries live in
# fixed places outside our directories.
disk_ids() {
  ls "${ARL_CONTAINERD_ROOT}/io.containerd.grpc.v1.cri/sandboxes" "${ARL_CONTAINERD_ROOT}/io.containerd.grpc.v1.cri/containers" \
    "${ARL_CONTAINERD_STATE}/io.containerd.runtime.v2.task/k8s.io" 2>/dev/null | grep -E '^[0-9a-f]{64}$' | sort -u
}
ids_on_disk="$(disk_ids)"

arl::log "removing containers"
ctr_ids=""
if [ -S "${ARL_CONTAINERD_SOCK}" ] && arl::running containerd; then
  ctr_ids="$(arl::ctr containers ls -q 2>/dev/null)"
  for id in $(arl::ctr tasks ls -q 2>/dev/null); do
    arl::ctr tasks kill -s SIGKILL "${id}" >/dev/null 2>&1
  done
  for id in $(arl::ctr tasks ls -q 2>/dev/null); do
    arl::ctr tasks delete -f "${id}" >/dev/null 2>&1
  done
  for id in $(arl::ctr containers ls -q 2>/dev/null); do
    arl::ctr containers delete "${id}" >/dev/null 2>&1
  done
  [ -n "$(arl::ctr containers ls -q 2>/dev/null)" ] || rm -f "${ARL_CONTAINERD_ROOT}/.in-use"
fi
# containerd died with containers in its store (killed, machine stopped): its
# store is stale; drop it (images are imported again from the cache by up).
wipe_containerd_root=0
[ -e "${ARL_CONTAINERD_ROOT}/.in-use" ] && wipe_containerd_root=1

arl::log "stopping the control plane (and the scale suite's kwok), containerd, etcd"
for name in kwok arl-svcproxy kube-scheduler kube-controller-manager kube-apiserver containerd etcd; do
  stop "${name}" 15
done

arl::log "cleaning up processes, mounts, cgroups, network, state"
# Whatever still runs in kubelet's cgroups (containers whose task survived),
# then the shims that served our containerd: by PID, nothing else.
pids_in_kubepods() {
  find /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/memory/kubepods -name cgroup.procs 2>/dev/null \
    -exec cat {} + 2>/dev/null | sort -u
}
shim_pids() {
  # One grep over every command line: those naming our containerd socket, of shims.
  grep -l -a -F -- "${ARL_CONTAINERD_SOCK}" /proc/[0-9]*/cmdline 2>/dev/null \
    | xargs -r grep -l -a -F containerd-shim 2>/dev/null | cut -d/ -f3 \
    | while read -r p; do arl::alive "$p" && echo "$p"; done
}
for round in 1 2 3; do
  pids="$(pids_in_kubepods) $(shim_pids)"
  [ -n "${pids// /}" ] || break
  # shellcheck disable=SC2086
  kill -KILL ${pids} 2>/dev/null
  sleep 0.5
done

# Mounts under our directories, deepest first (overlay rootfs, shm, pod netns,
# kubelet's volumes and its bind mount of its own root).
unmount_under() {
  local prefix
  for prefix in "$@"; do
    awk -v p="${prefix}" '$5 == p || index($5, p "/") == 1 {print $5}' /proc/self/mountinfo \
      | awk '{print length, $0}' | sort -rn | cut -d' ' -f2- \
      | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  done
}
unmount_under "${ARL_KUBELET_ROOT}" "${ARL_CONTAINERD_STATE}" "${ARL_CONTAINERD_ROOT}" "${ARL_CLUSTER_DIR}"

# kubelet's cgroups, deepest first.
for ctrl in /sys/fs/cgroup/*/; do
  [ -d "${ctrl}kubepods" ] || continue
  find "${ctrl}kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null
done

# The network namespace takes the veth pair, the bridge and its routes along.
if ip netns list 2>/dev/null | grep -qw "${ARL_NETNS}"; then
  ip netns delete "${ARL_NETNS}"
fi
ip link show "${ARL_VETH_HOST}" >/dev/null 2>&1 && ip link delete "${ARL_VETH_HOST}"

# State of the cluster that was (the next up makes a fresh one).
rm -rf "${ARL_CONTAINERD_STATE}" "${ARL_CLUSTER_DIR}/etcd" "${ARL_KUBELET_ROOT}" "${ARL_POD_LOGS}" \
  "${ARL_CLUSTER_DIR}/cni" "${ARL_CLUSTER_PIDS}" "${ARL_CLUSTER_DIR}/volumes"
find /var/log/containers -maxdepth 1 -type l -lname "${ARL_POD_LOGS}/*" -delete 2>/dev/null
# libcni's result cache (fixed at /var/lib/cni/results) for our pod sandboxes.
rm -f /var/lib/cni/results/"${ARL_CNI_NET}"-* 2>/dev/null
# The shims' sockets: /run/containerd/s/sha256(<our address>/k8s.io/<sandbox id>).
for id in ${ctr_ids} ${ids_on_disk}; do
  rm -f /var/lib/cni/results/*-"${id}"-* 2>/dev/null
  rm -f "/run/containerd/s/$(printf '%s' "${ARL_CONTAINERD_SOCK}/k8s.io/${id}" | sha256sum | cut -c1-64)"
done
# Directories that runc, the shims, libcni, kubelet and `ip netns` made in
# fixed places: removed when empty (a directory in use by anything else is not).
for d in /run/containerd /var/lib/cni /var/log/containers; do
  [ -d "$d" ] && find "$d" -depth -type d -empty -delete 2>/dev/null
done
if [ -d /run/netns ] && [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
  while mountpoint -q /run/netns; do umount /run/netns 2>/dev/null || break; done
  rmdir /run/netns 2>/dev/null
fi
if [ "${purge}" = 1 ] || [ "${wipe_containerd_root}" = 1 ]; then
  [ "${purge}" = 1 ] || arl::log "containerd's store held containers of a cluster that died: dropping it"
  rm -rf "${ARL_CONTAINERD_ROOT}"
fi
if [ "${purge}" = 1 ]; then
  rm -rf "${ARL_CLUSTER_PKI}"
fi

left="$(pids_in_kubepods) $(shim_pids)"
if [ -n "${left// /}" ]; then
  arl::log "WARNING: processes left behind: ${left}"
  exit 1
fi
arl::log "test cluster is down"

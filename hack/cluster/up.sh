#!/usr/bin/env bash
# Brings up the single-node test cluster (docs/development.md): etcd,
# kube-apiserver (aggregation layer on), kube-controller-manager,
# kube-scheduler, containerd + runc + a CNI bridge, kubelet, arl-svcproxy
# (ClusterIPs and cluster DNS), the locally built images, and arl-apiserver
# deployed from artifacts/. Everything runs in the network namespace
# ${ARL_NETNS}; kube-apiserver is at https://10.244.254.2:6443 from the host.
#
# Idempotent: when the cluster is up and healthy it only (re)deploys ARL;
# when it is half up it is torn down and started again.
#
#   hack/cluster/up.sh            whole cluster + ARL
#   ARL_DEPLOY=0 hack/cluster/up.sh   cluster only
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
arl::cluster_lock

[ "$(id -u)" -eq 0 ] || arl::die "the test cluster needs root (kubelet, containerd, network namespaces)"
total_start=$SECONDS

deploy_arl() {
  if [ "${ARL_DEPLOY:-1}" = 0 ]; then return 0; fi
  arl::timed "cluster: deploy arl-apiserver from artifacts/" "${ARL_ROOT}/hack/cluster/deploy.sh"
}

if "${ARL_ROOT}/hack/cluster/status.sh" >/dev/null 2>&1; then
  arl::log "test cluster is already up"
  # arl-svcproxy rebuilt from changed sources: run the new one.
  "${ARL_ROOT}/hack/cluster/k8s-bins.sh" arl-svcproxy
  if [ "$(readlink "/proc/$(cat "$(arl::pidfile arl-svcproxy)")/exe")" != "$(arl::tools_bin_dir)/arl-svcproxy" ]; then
    arl::log "arl-svcproxy was rebuilt: restarting it"
    rm -f "${ARL_CLUSTER_PIDS}/arl-svcproxy.cmd"
    "${ARL_ROOT}/hack/cluster/restart.sh" arl-svcproxy --cmd "$(arl::tools_bin_dir)/arl-svcproxy" \
      --kubeconfig "${ARL_CLUSTER_DIR}/config/svcproxy.kubeconfig" --dns-listen "${ARL_NODE_IP}:53" --cluster-domain cluster.local
  fi
  arl::timed "cluster: images" "${ARL_ROOT}/hack/cluster/images.sh"
  deploy_arl
  "${ARL_ROOT}/hack/cluster/env.sh"
  exit 0
fi
if compgen -G "${ARL_CLUSTER_PIDS}/*.pid" >/dev/null || ip netns list 2>/dev/null | grep -qw "${ARL_NETNS}"; then
  arl::log "test cluster is partly up: tearing it down first"
  "${ARL_ROOT}/hack/cluster/down.sh"
fi

# --- host packages ---------------------------------------------------------
arl::timed "cluster: debian packages" arl::apt_ensure \
  containerd runc containernetworking-plugins iproute2 openssl util-linux curl debootstrap \
  python3 python3-kubernetes python3-pytest python3-yaml

# --- binaries --------------------------------------------------------------
arl::timed "cluster: kubernetes binaries" "${ARL_ROOT}/hack/cluster/k8s-bins.sh"
BIN="$(arl::k8s_bin_dir)"
TOOLS="$(arl::tools_bin_dir)"

arl::timed "cluster: certificates" "${ARL_ROOT}/hack/cluster/pki.sh"
PKI="${ARL_CLUSTER_PKI}"

mkdir -p "${ARL_CLUSTER_LOGS}" "${ARL_CLUSTER_PIDS}"
# A fresh cluster every time: no state survives from the last one.
rm -rf "${ARL_CLUSTER_DIR}/etcd" "${ARL_KUBELET_ROOT}" "${ARL_POD_LOGS}" "${ARL_CLUSTER_DIR}/cni" "${ARL_CLUSTER_DIR}/config" \
  "${ARL_CLUSTER_DIR}/volumes"
mkdir -p "${ARL_CLUSTER_DIR}/config" "${ARL_CLUSTER_DIR}/cni/net.d" "${ARL_KUBELET_ROOT}" "${ARL_POD_LOGS}"
CFG="${ARL_CLUSTER_DIR}/config"

# write_kubeconfig FILE CERT SERVER
write_kubeconfig() {
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: arl-test
  cluster:
    server: $3
    certificate-authority-data: $(base64 -w0 "${PKI}/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 "${PKI}/$2.crt")
    client-key-data: $(base64 -w0 "${PKI}/$2.key")
contexts:
- name: arl-test
  context:
    cluster: arl-test
    user: $2
current-context: arl-test
EOF
  chmod 600 "$1"
}

# --- network -----------------------------------------------------------------
network_up() {
  ip netns add "${ARL_NETNS}"
  ip -n "${ARL_NETNS}" link set lo up
  ip link add "${ARL_VETH_HOST}" type veth peer name "${ARL_VETH_NODE}" netns "${ARL_NETNS}"
  ip addr add "${ARL_HOST_IP}/30" dev "${ARL_VETH_HOST}"
  ip link set "${ARL_VETH_HOST}" up
  ip -n "${ARL_NETNS}" addr add "${ARL_NODE_IP}/30" dev "${ARL_VETH_NODE}"
  ip -n "${ARL_NETNS}" link set "${ARL_VETH_NODE}" up
  # Every Service ClusterIP is local to the namespace: arl-svcproxy listens on them.
  ip -n "${ARL_NETNS}" route add local "${ARL_SERVICE_CIDR}" dev lo
  # CNI: one bridge, host-local IPAM, no masquerade (nothing leaves the namespace).
  cat > "${ARL_CLUSTER_DIR}/cni/net.d/10-${ARL_CNI_NET}.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "${ARL_CNI_NET}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${ARL_BRIDGE}",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "${ARL_CLUSTER_DIR}/cni/ipam",
        "ranges": [[{"subnet": "${ARL_POD_CIDR}", "gateway": "${ARL_POD_GW}"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
  # Pods resolve names through arl-svcproxy's cluster DNS only.
  printf 'nameserver %s\n' "${ARL_NODE_IP}" > "${CFG}/resolv.conf"
}
arl::timed "cluster: network namespace ${ARL_NETNS}" network_up

# --- etcd ----------------------------------------------------------------------
etcd_up() {
  arl::start etcd "${BIN}/etcd" --name arl --data-dir "${ARL_CLUSTER_DIR}/etcd" \
    --listen-client-urls https://127.0.0.1:2379 --advertise-client-urls https://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster arl=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --cert-file "${PKI}/etcd-server.crt" --key-file "${PKI}/etcd-server.key" \
    --trusted-ca-file "${PKI}/ca.crt" --client-cert-auth \
    --unsafe-no-fsync --log-level warn
  arl::wait_daemon etcd 60 "etcd health" arl::in_netns curl -fsS http://127.0.0.1:2381/health
}
arl::timed "cluster: etcd" etcd_up

# --- kube-apiserver --------------------------------------------------------------
kas_up() {
  arl::start kube-apiserver "${BIN}/kube-apiserver" \
    --bind-address=0.0.0.0 --secure-port="${ARL_KAS_PORT}" --advertise-address="${ARL_NODE_IP}" \
    --etcd-servers=https://127.0.0.1:2379 --etcd-cafile="${PKI}/ca.crt" \
    --etcd-certfile="${PKI}/kube-apiserver-etcd-client.crt" --etcd-keyfile="${PKI}/kube-apiserver-etcd-client.key" \
    --tls-cert-file="${PKI}/kube-apiserver.crt" --tls-private-key-file="${PKI}/kube-apiserver.key" \
    --client-ca-file="${PKI}/ca.crt" \
    --kubelet-client-certificate="${PKI}/kube-apiserver-kubelet-client.crt" \
    --kubelet-client-key="${PKI}/kube-apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="${PKI}/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="${PKI}/sa.pub" --service-account-signing-key-file="${PKI}/sa.key" \
    --service-cluster-ip-range="${ARL_SERVICE_CIDR}" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true \
    --requestheader-client-ca-file="${PKI}/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-uid-headers=X-Remote-Uid --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="${PKI}/front-proxy-client.crt" --proxy-client-key-file="${PKI}/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --event-ttl=2h --profiling=false
  write_kubeconfig "${ARL_KUBECONFIG}" admin "${ARL_KAS_URL}"
  # The control plane inside the namespace talks to kube-apiserver on its loopback.
  write_kubeconfig "${CFG}/kube-controller-manager.kubeconfig" kube-controller-manager https://127.0.0.1:6443
  write_kubeconfig "${CFG}/kube-scheduler.kubeconfig" kube-scheduler https://127.0.0.1:6443
  write_kubeconfig "${CFG}/kubelet.kubeconfig" kubelet-client https://127.0.0.1:6443
  write_kubeconfig "${CFG}/svcproxy.kubeconfig" svcproxy https://127.0.0.1:6443
  arl::wait_daemon kube-apiserver 120 "kube-apiserver /readyz" \
    curl -fsS --cacert "${PKI}/ca.crt" --cert "${PKI}/admin.crt" --key "${PKI}/admin.key" "${ARL_KAS_URL}/readyz"
}
arl::timed "cluster: kube-apiserver" kas_up
KUBECTL=("${BIN}/kubectl" --kubeconfig "${ARL_KUBECONFIG}")

# --- controller manager, scheduler ------------------------------------------------------
cp_up() {
  arl::start kube-controller-manager "${BIN}/kube-controller-manager" \
    --kubeconfig="${CFG}/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig="${CFG}/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig="${CFG}/kube-controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="${PKI}/sa.key" --root-ca-file="${PKI}/ca.crt" \
    --cluster-signing-cert-file="${PKI}/ca.crt" --cluster-signing-key-file="${PKI}/ca.key" \
    --service-cluster-ip-range="${ARL_SERVICE_CIDR}" --cluster-name=arl-test \
    --controllers='*,bootstrapsigner,tokencleaner'
  arl::start kube-scheduler "${BIN}/kube-scheduler" \
    --kubeconfig="${CFG}/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig="${CFG}/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig="${CFG}/kube-scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false \
    --kube-api-qps=200 --kube-api-burst=400  # 50/100 by default: 10,000 pods (make test-scale) would take minutes to bind
  arl::wait_daemon kube-controller-manager 60 "kube-controller-manager /healthz" arl::in_netns curl -kfsS https://127.0.0.1:10257/healthz
  arl::wait_daemon kube-scheduler 60 "kube-scheduler /healthz" arl::in_netns curl -kfsS https://127.0.0.1:10259/healthz
}
arl::timed "cluster: controller-manager, scheduler" cp_up

# --- containerd --------------------------------------------------------------
containerd_up() {
  mkdir -p "${ARL_CONTAINERD_ROOT}" "${ARL_CONTAINERD_STATE}"
  cat > "${CFG}/containerd.toml" <<EOF
version = 2
root = "${ARL_CONTAINERD_ROOT}"
state = "${ARL_CONTAINERD_STATE}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${ARL_CONTAINERD_SOCK}"
[ttrpc]
  address = "${ARL_CONTAINERD_SOCK}.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "${ARL_CONTAINERD_ROOT}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${ARL_PAUSE_IMAGE}"
  # The VM lacks CAP_SYS_RESOURCE: without this every sandbox fails with
  # "can't get final child's PID from pipe: EOF" (oom_score_adj: permission denied).
  restrict_oom_score_adj = true
  # Pod network namespaces under our state dir, so cluster-down finds them all.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${ARL_CONTAINERD_STATE}/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${ARL_CLUSTER_DIR}/cni/net.d"
    max_conf_num = 1
EOF
  # Marks the store as holding containers until down.sh has removed them.
  touch "${ARL_CONTAINERD_ROOT}/.in-use"
  arl::start containerd containerd --config "${CFG}/containerd.toml"
  arl::wait_daemon containerd 60 "containerd" arl::ctr version
}
arl::timed "cluster: containerd" containerd_up

arl::timed "cluster: images" "${ARL_ROOT}/hack/cluster/images.sh"

# --- arl-svcproxy: ClusterIPs and cluster DNS --------------------------------------------
svcproxy_up() {
  arl::start arl-svcproxy "${TOOLS}/arl-svcproxy" --kubeconfig "${CFG}/svcproxy.kubeconfig" \
    --dns-listen "${ARL_NODE_IP}:53" --cluster-domain cluster.local
  arl::wait_daemon arl-svcproxy 60 "arl-svcproxy" grep -q '] ready$\| ready$' "${ARL_CLUSTER_LOGS}/arl-svcproxy.log"
}
arl::timed "cluster: arl-svcproxy" svcproxy_up

# --- kubelet ---------------------------------------------------------------------
kubelet_up() {
  cat > "${CFG}/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# The host is cgroup v1 (hybrid), without systemd.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
containerRuntimeEndpoint: unix://${ARL_CONTAINERD_SOCK}
address: ${ARL_NODE_IP}
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: ${PKI}/kubelet-server.crt
tlsPrivateKeyFile: ${PKI}/kubelet-server.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${PKI}/ca.crt}
authorization:
  mode: Webhook
clusterDomain: cluster.local
clusterDNS: [${ARL_NODE_IP}]
resolvConf: ${CFG}/resolv.conf
podLogsDir: ${ARL_POD_LOGS}
enforceNodeAllocatable: []
# Generous: a busy shared VM must not evict the sandboxes under test.
evictionHard:
  memory.available: "64Mi"
  nodefs.available: "1%"
  nodefs.inodesFree: "1%"
  imagefs.available: "1%"
  imagefs.inodesFree: "1%"
evictionPressureTransitionPeriod: 10s
# No registry to pull from again: never collect images.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 250
rotateCertificates: false
serverTLSBootstrap: false
nodeStatusReportFrequency: 10s
EOF
  arl::start kubelet "${BIN}/kubelet" --config "${CFG}/kubelet.yaml" \
    --kubeconfig "${CFG}/kubelet.kubeconfig" --root-dir "${ARL_KUBELET_ROOT}" \
    --hostname-override "${ARL_NODE_NAME}" --node-ip "${ARL_NODE_IP}" --v=1
  arl::wait_daemon kubelet 120 "node ${ARL_NODE_NAME} Ready" \
    "${KUBECTL[@]}" wait --for=condition=Ready "node/${ARL_NODE_NAME}" --timeout=2s
  # kube-controller-manager's service account controller makes "default" in every namespace.
  arl::wait_daemon kube-controller-manager 60 "serviceaccount default/default" \
    "${KUBECTL[@]}" get serviceaccount default -n default
}
arl::timed "cluster: kubelet" kubelet_up

deploy_arl
arl::log "test cluster is up in $((SECONDS - total_start))s; logs: ${ARL_CLUSTER_LOGS}"
"${ARL_ROOT}/hack/cluster/env.sh"

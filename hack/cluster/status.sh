#!/usr/bin/env bash
# Exits 0 when the test cluster is up and healthy: every daemon it started is
# alive, kube-apiserver is ready, the node is Ready. Says what is wrong
# otherwise (exit 1). With -v it also prints the daemons and the nodes.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

verbose=0; [ "${1:-}" = "-v" ] && verbose=1
rc=0
for name in etcd kube-apiserver kube-controller-manager kube-scheduler containerd arl-svcproxy kubelet; do
  if arl::running "${name}"; then
    [ "${verbose}" = 1 ] && echo "running  ${name} (pid $(cat "$(arl::pidfile "${name}")"), log ${ARL_CLUSTER_LOGS}/${name}.log)"
  else
    echo "stopped  ${name}"; rc=1
  fi
done
[ "${rc}" = 0 ] || exit 1
pki="${ARL_CLUSTER_PKI}"
if ! curl -fsS --max-time 5 --cacert "${pki}/ca.crt" --cert "${pki}/admin.crt" --key "${pki}/admin.key" \
     "${ARL_KAS_URL}/readyz" >/dev/null 2>&1; then
  echo "kube-apiserver at ${ARL_KAS_URL} is not ready"; exit 1
fi
ready="$(curl -fsS --max-time 5 --cacert "${pki}/ca.crt" --cert "${pki}/admin.crt" --key "${pki}/admin.key" \
  "${ARL_KAS_URL}/api/v1/nodes/${ARL_NODE_NAME}" 2>/dev/null \
  | /usr/bin/python3 -c 'import json,sys; n=json.load(sys.stdin); print([c["status"] for c in n["status"]["conditions"] if c["type"]=="Ready"][0])' 2>/dev/null)"
if [ "${ready}" != "True" ]; then
  echo "node ${ARL_NODE_NAME} is not Ready"; exit 1
fi
if [ "${verbose}" = 1 ]; then
  "$(arl::k8s_bin_dir)/kubectl" --kubeconfig "${ARL_KUBECONFIG}" get nodes -o wide
  "$(arl::k8s_bin_dir)/kubectl" --kubeconfig "${ARL_KUBECONFIG}" get apiservice v1alpha1.arl.infra.io 2>/dev/null || true
fi
echo "test cluster is up: ${ARL_KAS_URL}"

#!/usr/bin/env bash
# Deploys ARL into the running test cluster the way a user installs it:
# `kubectl apply -k artifacts/deploy` (README "In a cluster"). arl-apiserver
# makes its own certificates and sets the APIService's caBundle. What only
# the test cluster needs, and only that:
#   - storage: a default StorageClass arl-local and hostPath
#     PersistentVolumes under ~/.cache/arl/cluster/volumes (a real cluster
#     has a provisioner); a volume released by an uninstall is emptied and
#     offered again;
#   - the etcd Deployment of the release before (emptyDir, plain HTTP) is
#     removed: its data is disposable here (users: docs/operations.md,
#     "Upgrading from v0.1.0");
#   - arl-apiserver is restarted when the arl images were rebuilt under the
#     same tag;
#   - it waits until etcd and arl-apiserver are rolled out and the
#     APIService is Available.
# ARL_DEPLOY_KUSTOMIZATION names another kustomization to apply instead of
# artifacts/deploy (the e2e suite's three-member etcd install).
# Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
arl::cluster_lock

NS=arl-system
APISERVICE=v1alpha1.arl.infra.io
ART="${ARL_DEPLOY_KUSTOMIZATION:-${ARL_ROOT}/artifacts/deploy}"
KUBECTL=("$(arl::k8s_bin_dir)/kubectl" --kubeconfig "${ARL_KUBECONFIG}")
VOLUMES="${ARL_CLUSTER_DIR}/volumes"
PV_COUNT="${ARL_PV_COUNT:-10}"

[ -f "${ART}/kustomization.yaml" ] || { arl::log "WARNING: no ${ART}/kustomization.yaml: ARL not deployed"; exit 0; }
for b in arl-apiserver arl-sidecar; do
  if ! arl::ctr images ls -q "name==ghcr.io/arl-infra/${b}:v0.1.0" | grep -q .; then
    arl::die "image ghcr.io/arl-infra/${b}:v0.1.0 is not in the cluster (hack/cluster/images.sh arl)"
  fi
done

# --- storage -----------------------------------------------------------------------
# pv_yaml N: a hostPath volume of the node; uid 65532 (etcd, the backup job) owns it.
pv_yaml() {
  cat <<YAML
apiVersion: v1
kind: PersistentVolume
metadata:
  name: arl-local-$1
  labels: {arl.infra.io/test-cluster: "true"}
spec:
  capacity: {storage: 10Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: arl-local
  hostPath: {path: ${VOLUMES}/pv-$1, type: Directory}
YAML
}
storage_up() {
  "${KUBECTL[@]}" apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: arl-local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
YAML
  local i phase
  for ((i = 0; i < PV_COUNT; i++)); do
    phase="$("${KUBECTL[@]}" get pv "arl-local-$i" -o jsonpath='{.status.phase}' 2>/dev/null || true)"
    if [ "${phase}" = Released ] || [ "${phase}" = Failed ]; then
      "${KUBECTL[@]}" delete pv "arl-local-$i" --wait=true >/dev/null
      rm -rf "${VOLUMES}/pv-$i"
      phase=""
    fi
    if [ -z "${phase}" ]; then
      mkdir -p "${VOLUMES}/pv-$i"
      chown 65532:65532 "${VOLUMES}/pv-$i"
      chmod 0700 "${VOLUMES}/pv-$i"
      pv_yaml "$i" | "${KUBECTL[@]}" apply -f - >/dev/null
    fi
  done
}
storage_up

# --- the release before ---------------------------------------------------------------
if "${KUBECTL[@]}" get deployment arl-etcd -n "${NS}" >/dev/null 2>&1; then
  arl::log "removing the emptyDir etcd Deployment of the release before"
  "${KUBECTL[@]}" delete deployment arl-etcd -n "${NS}" --wait=true
fi

# --- the manifests ------------------------------------------------------------------
"${KUBECTL[@]}" apply -k "${ART}"

# Same tag, new image (bin/arl-apiserver rebuilt): restart so pods run it.
digests="$(arl::ctr images ls | awk '$1 ~ /^ghcr.io\/arl-infra\// {print $1, $3}' | sort)"
stamp="${ARL_CLUSTER_DIR}/deployed-images"
if [ -s "${stamp}" ] && [ "$(cat "${stamp}")" != "${digests}" ]; then
  arl::log "arl images changed since the last deploy: restarting arl-apiserver"
  "${KUBECTL[@]}" rollout restart -n "${NS}" deployment/arl-apiserver
fi
echo "${digests}" > "${stamp}"

# --- wait ---------------------------------------------------------------------------
for w in statefulset/arl-etcd deployment/arl-apiserver; do
  if ! "${KUBECTL[@]}" rollout status -n "${NS}" "${w}" --timeout=240s; then
    "${KUBECTL[@]}" get pods,pvc -n "${NS}" -o wide >&2 || true
    "${KUBECTL[@]}" describe -n "${NS}" "${w}" >&2 || true
    "${KUBECTL[@]}" logs -n "${NS}" "${w}" --all-containers --tail=50 >&2 || true
    arl::die "${w} did not roll out"
  fi
done
if ! "${KUBECTL[@]}" wait --for=condition=Available "apiservice/${APISERVICE}" --timeout=120s; then
  "${KUBECTL[@]}" get apiservice "${APISERVICE}" -o yaml >&2 || true
  "${KUBECTL[@]}" logs -n "${NS}" -l app=arl-operator --tail=50 >&2 || true
  arl::die "APIService ${APISERVICE} is not Available"
fi
arl::log "arl-apiserver is serving ${APISERVICE} through kube-apiserver"

#!/usr/bin/env bash
# Deploys arl-apiserver into the running test cluster from artifacts/, the
# same manifests a user applies to a real cluster. What a user's deploy
# script does too, and only that:
#   - makes a serving certificate for arl-apiserver.arl-system.svc (its own CA,
#     cached under ~/.cache/arl/cluster/pki) into Secret
#     arl-system/arl-apiserver-serving-cert (kubernetes.io/tls, with ca.crt);
#   - kubectl apply -f artifacts/;
#   - fills APIService v1alpha1.arl.infra.io's caBundle with that CA;
#   - restarts the Deployment when the arl images were rebuilt under the same tag;
#   - waits until arl-etcd and arl-apiserver are rolled out and the APIService is Available.
# Idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
arl::cluster_lock

NS=arl-system
APISERVICE=v1alpha1.arl.infra.io
ART="${ARL_ROOT}/artifacts/deploy"
KUBECTL=("$(arl::k8s_bin_dir)/kubectl" --kubeconfig "${ARL_KUBECONFIG}")

if [ ! -d "${ART}" ] || ! compgen -G "${ART}/*.yaml" >/dev/null; then
  arl::log "WARNING: no artifacts/deploy/*.yaml yet: arl-apiserver not deployed"
  exit 0
fi
for b in arl-apiserver arl-sidecar; do
  if ! arl::ctr images ls -q "name==ghcr.io/arl-infra/${b}:v0.1.0" | grep -q .; then
    arl::die "image ghcr.io/arl-infra/${b}:v0.1.0 is not in the cluster (hack/cluster/images.sh arl)"
  fi
done

# --- serving certificate --------------------------------------------------------
pki="${ARL_CLUSTER_PKI}"
cd "${pki}"
svc="arl-apiserver.${NS}.svc"
if [ ! -s arl-apiserver-ca.crt ] || ! openssl x509 -checkend 86400 -noout -in arl-apiserver-ca.crt >/dev/null 2>&1; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out arl-apiserver-ca.key 2>/dev/null
  openssl req -x509 -new -key arl-apiserver-ca.key -subj "/CN=arl-apiserver-ca" -days 3650 -out arl-apiserver-ca.crt \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  rm -f arl-apiserver-serving.crt
fi
if [ ! -s arl-apiserver-serving.crt ] || ! openssl x509 -checkend 86400 -noout -in arl-apiserver-serving.crt >/dev/null 2>&1; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out arl-apiserver-serving.key 2>/dev/null
  openssl req -new -key arl-apiserver-serving.key -subj "/CN=${svc}" -out arl-apiserver-serving.csr 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s,DNS:%s.cluster.local,DNS:arl-apiserver.%s,DNS:arl-apiserver\n' \
    "${svc}" "${svc}" "${NS}" > arl-apiserver-serving.ext
  openssl x509 -req -in arl-apiserver-serving.csr -CA arl-apiserver-ca.crt -CAkey arl-apiserver-ca.key \
    -CAcreateserial -CAserial arl-apiserver-ca.srl -days 365 -extfile arl-apiserver-serving.ext -out arl-apiserver-serving.crt 2>/dev/null
  rm -f arl-apiserver-serving.csr arl-apiserver-serving.ext
fi
cd "${ARL_ROOT}"

"${KUBECTL[@]}" create namespace "${NS}" --dry-run=client -o yaml | "${KUBECTL[@]}" apply -f - >/dev/null
"${KUBECTL[@]}" create secret generic arl-apiserver-serving-cert -n "${NS}" --type=kubernetes.io/tls \
  --from-file=tls.crt="${pki}/arl-apiserver-serving.crt" --from-file=tls.key="${pki}/arl-apiserver-serving.key" \
  --from-file=ca.crt="${pki}/arl-apiserver-ca.crt" --dry-run=client -o yaml | "${KUBECTL[@]}" apply -f - >/dev/null

# --- the manifests ------------------------------------------------------------------
# artifacts/deploy/*.yaml in order, with the APIService's empty caBundle filled
# in (rendered, not patched afterwards: a later apply would empty it again).
ca_b64="$(base64 -w0 "${pki}/arl-apiserver-ca.crt")"
for f in "${ART}"/*.yaml; do cat "$f"; printf '\n---\n'; done \
  | sed -E "s#^([[:space:]]*caBundle:)[[:space:]]*(\"\"|'')?[[:space:]]*\$#\1 ${ca_b64}#" \
  | "${KUBECTL[@]}" apply -f -
if [ "$("${KUBECTL[@]}" get apiservice "${APISERVICE}" -o jsonpath='{.spec.caBundle}')" != "${ca_b64}" ]; then
  arl::die "APIService ${APISERVICE} did not get the caBundle (does ${ART} still have 'caBundle: \"\"'?)"
fi

# Same tag, new image (bin/arl-apiserver rebuilt): restart so pods run it.
digests="$(arl::ctr images ls | awk '$1 ~ /^ghcr.io\/arl-infra\// {print $1, $3}' | sort)"
stamp="${ARL_CLUSTER_DIR}/deployed-images"
if [ -s "${stamp}" ] && [ "$(cat "${stamp}")" != "${digests}" ]; then
  arl::log "arl images changed since the last deploy: restarting arl-apiserver"
  "${KUBECTL[@]}" rollout restart -n "${NS}" deployment/arl-apiserver
fi
echo "${digests}" > "${stamp}"

# --- wait ---------------------------------------------------------------------------
for d in $("${KUBECTL[@]}" get deployments -n "${NS}" -o name); do
  if ! "${KUBECTL[@]}" rollout status -n "${NS}" "${d}" --timeout=180s; then
    "${KUBECTL[@]}" get pods -n "${NS}" -o wide >&2 || true
    "${KUBECTL[@]}" describe -n "${NS}" "${d}" >&2 || true
    "${KUBECTL[@]}" logs -n "${NS}" "${d}" --all-containers --tail=50 >&2 || true
    arl::die "${d} did not roll out"
  fi
done
if ! "${KUBECTL[@]}" wait --for=condition=Available "apiservice/${APISERVICE}" --timeout=120s; then
  "${KUBECTL[@]}" get apiservice "${APISERVICE}" -o yaml >&2 || true
  "${KUBECTL[@]}" logs -n "${NS}" -l app=arl-operator --tail=50 >&2 || true
  arl::die "APIService ${APISERVICE} is not Available"
fi
arl::log "arl-apiserver is serving ${APISERVICE} through kube-apiserver"

#!/usr/bin/env bash
# Certificates and keys for the test cluster, under ${ARL_CLUSTER_DIR}/pki.
# Idempotent: an existing certificate is kept while it is valid for at least
# a day more and was made for the same addresses; otherwise it is made anew.
#
#   ca            cluster CA: kube-apiserver, etcd, kubelet, client certificates
#   front-proxy-ca  the aggregation layer's requestheader CA (front-proxy-client)
#   sa.key/sa.pub service account token signing keys
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

pki="${ARL_CLUSTER_PKI}"
mkdir -p "${pki}"
chmod 700 "${pki}"
cd "${pki}"

# The addresses certificates are made for: a change makes them anew.
fingerprint="$(printf '%s|%s|%s' "${ARL_NODE_IP}" "${ARL_SERVICE_CIDR}" "${ARL_NODE_NAME}" | sha256sum | cut -c1-16)"
if [ "$(cat .fingerprint 2>/dev/null)" != "${fingerprint}" ]; then
  rm -f ./*.crt ./*.key ./*.pub ./*.srl ./*.csr
  echo "${fingerprint}" > .fingerprint
fi

valid() { [ -s "$1.crt" ] && [ -s "$1.key" ] && openssl x509 -checkend 86400 -noout -in "$1.crt" >/dev/null 2>&1; }

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; chmod 600 "$1.key"; }

# ca NAME CN
ca() {
  valid "$1" && return 0
  newkey "$1"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3650 -out "$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
  # Anything signed by an older CA of this name is stale.
  find . -maxdepth 1 -name '*.signer' -exec grep -lx "$1" {} + 2>/dev/null | while read -r f; do rm -f "${f%.signer}.crt"; done
}

# cert NAME CA SUBJECT USAGE [SAN]   USAGE: server | client | both
cert() {
  local name="$1" ca="$2" subj="$3" usage="$4" san="${5:-}" eku
  valid "${name}" && [ "$(cat "${name}.signer" 2>/dev/null)" = "${ca}" ] && return 0
  case "${usage}" in
    server) eku=serverAuth ;; client) eku=clientAuth ;; both) eku="serverAuth,clientAuth" ;;
  esac
  newkey "${name}"
  openssl req -new -key "${name}.key" -subj "${subj}" -out "${name}.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${eku}"
    [ -z "${san}" ] || echo "subjectAltName=${san}"
  } > "${name}.ext"
  openssl x509 -req -in "${name}.csr" -CA "${ca}.crt" -CAkey "${ca}.key" -CAcreateserial -CAserial "${ca}.srl" \
    -days 365 -extfile "${name}.ext" -out "${name}.crt" 2>/dev/null
  echo "${ca}" > "${name}.signer"
  rm -f "${name}.csr" "${name}.ext"
}

ca ca "arl-test-cluster-ca"
ca front-proxy-ca "arl-test-front-proxy-ca"

kas_san="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
kas_san+=",IP:127.0.0.1,IP:${ARL_NODE_IP},IP:${ARL_SERVICE_CIDR%.*.*}.0.1"
cert kube-apiserver ca "/CN=kube-apiserver" server "${kas_san}"
cert kube-apiserver-etcd-client ca "/CN=kube-apiserver-etcd-client" client
cert kube-apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" client
cert etcd-server ca "/CN=etcd" both "DNS:localhost,IP:127.0.0.1"
cert front-proxy-client front-proxy-ca "/CN=front-proxy-client" client
cert admin ca "/O=system:masters/CN=arl-cluster-admin" client
cert kube-controller-manager ca "/CN=system:kube-controller-manager" client
cert kube-scheduler ca "/CN=system:kube-scheduler" client
cert kubelet-client ca "/O=system:nodes/CN=system:node:${ARL_NODE_NAME}" client
cert kubelet-server ca "/CN=${ARL_NODE_NAME}" server "DNS:${ARL_NODE_NAME},DNS:localhost,IP:${ARL_NODE_IP},IP:127.0.0.1"
# arl-svcproxy reads services and endpointslices; system:kube-proxy has that role.
cert svcproxy ca "/CN=system:kube-proxy" client

if [ ! -s sa.key ] || [ ! -s sa.pub ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
  openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
  chmod 600 sa.key
fi

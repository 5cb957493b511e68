#!/usr/bin/env bash
# Builds the test cluster's container images with no registry and no container
# engine, as single-layer OCI archives cached under ~/.cache/arl/images, and
# imports them into the cluster's containerd when it is running:
#
#   registry.k8s.io/pause:3.10                 arl-pause (hack/k8s-bins/cmd/arl-pause)
#   gcr.io/etcd-development/etcd:v3.7.0        etcd, etcdctl, etcdutl v3.7.0 built from the Go module proxy
#   ghcr.io/arl-infra/arl-apiserver:v0.1.0     bin/arl-apiserver (hack/build.sh)
#   ghcr.io/arl-infra/arl-sidecar:v0.1.0       bin/arl-sidecar (hack/build.sh)
#   docker.io/library/python:3.9-slim          Debian bookworm (debootstrap): python3 (+ python),
#                                              python3-flask, curl, procps, bash. NOT Python 3.9:
#                                              it stands in for the manual's image so its YAML
#                                              runs unmodified here (docs/development.md).
#
# Usage: hack/cluster/images.sh [--no-import] [image...]   image: pause etcd arl python
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

import=1
if [ "${1:-}" = "--no-import" ]; then import=0; shift; fi
want=("$@"); [ "${#want[@]}" -gt 0 ] || want=(pause etcd arl python)

IMG_DIR="${ARL_CACHE}/images"
mkdir -p "${IMG_DIR}"
OCI="/usr/bin/python3 ${ARL_ROOT}/hack/cluster/oci-image.py"

ARL_VERSION_TAG="v0.1.0"
PYTHON_SUITE="bookworm"
PYTHON_PKGS="python3,python-is-python3,python3-flask,curl,procps,bash,ca-certificates"
PYTHON_RECIPE=2   # bump when build_python changes

# stage_static NAME BIN... : a rootfs holding static binaries in /usr/local/bin.
stage_static() {
  local dir="$1"; shift
  rm -rf "${dir}"; mkdir -p "${dir}/usr/local/bin" "${dir}/etc" "${dir}/tmp" "${dir}/var/run"
  chmod 1777 "${dir}/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "${dir}/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > "${dir}/etc/group"
  local b
  for b in "$@"; do install -m 0755 "$b" "${dir}/usr/local/bin/"; done
}

# build REF KEY BUILDER... : runs BUILDER (which writes $out) unless the
# archive for KEY exists; records the manifest digest beside it.
build() {
  local ref="$1" key="$2"; shift 2
  local base; base="$(echo "${ref}" | tr '/:' '__')"
  out="${IMG_DIR}/${base}-${key}.tar"
  if [ ! -s "${out}" ] || [ ! -s "${out}.digest" ]; then
    arl::log "building image ${ref}"
    rm -f "${IMG_DIR}/${base}-"*.tar "${IMG_DIR}/${base}-"*.digest
    "$@" > "${out}.digest.tmp"
    mv -f "${out}.digest.tmp" "${out}.digest"
  fi
  built+=("${ref}|${out}")
}

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

build_pause() {
  local bin; bin="$(arl::tools_bin_dir)/arl-pause"
  [ -x "${bin}" ] || "${ARL_ROOT}/hack/cluster/k8s-bins.sh" arl-pause >&2
  local stage="${IMG_DIR}/stage-pause"
  stage_static "${stage}" "${bin}"
  ln -sf usr/local/bin/arl-pause "${stage}/pause"
  ${OCI} --rootfs "${stage}" --name "${ARL_PAUSE_IMAGE}" --out "${out}" --entrypoint '["/pause"]' --force-root-owner
  rm -rf "${stage}"
}

build_etcd() {
  local stage="${IMG_DIR}/stage-etcd"
  stage_static "${stage}" "${ETCD_BIN}" "${ETCD_TOOLS[@]}"
  mkdir -p "${stage}/var/etcd" "${stage}/var/lib/etcd"
  # Like the upstream image: binaries in /usr/local/bin, CMD etcd.
  ${OCI} --rootfs "${stage}" --name "gcr.io/etcd-development/etcd:${ETCD_VERSION}" --out "${out}" \
    --cmd '["/usr/local/bin/etcd"]' --workdir /var/lib/etcd --force-root-owner
  rm -rf "${stage}"
}

build_arl() { # NAME
  local stage="${IMG_DIR}/stage-$1"
  stage_static "${stage}" "${ARL_ROOT}/bin/$1"
  ${OCI} --rootfs "${stage}" --name "ghcr.io/arl-infra/$1:${ARL_VERSION_TAG}" --out "${out}" \
    --entrypoint "[\"/usr/local/bin/$1\"]" --force-root-owner
  rm -rf "${stage}"
}

build_python() {
  local stage="${IMG_DIR}/stage-python"
  local mirror
  # The Debian mirror apt uses here.
  mirror="$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null || true; } \
    | sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p; s/^deb \(http[^ ]*debian\) .*/\1/p' | head -1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  arl::apt_ensure debootstrap
  rm -rf "${stage}"
  # debootstrap's own package cache survives, so a rebuild downloads nothing.
  mkdir -p "${IMG_DIR}/debootstrap-cache"
  debootstrap --variant=minbase --include="${PYTHON_PKGS}" --cache-dir="${IMG_DIR}/debootstrap-cache" \
    "${PYTHON_SUITE}" "${stage}" "${mirror}" >"${IMG_DIR}/debootstrap.log" 2>&1 \
    || { tail -20 "${IMG_DIR}/debootstrap.log" >&2; arl::die "debootstrap failed (log: ${IMG_DIR}/debootstrap.log)"; }
  # Slim it like the upstream -slim images: no docs, man pages, locales, caches.
  rm -rf "${stage}/var/cache/apt/archives/"*.deb "${stage}/var/lib/apt/lists/"* "${stage}/var/log/"*.log \
    "${stage}/usr/share/doc/"* "${stage}/usr/share/man/"* "${stage}/usr/share/info/"* "${stage}/usr/share/locale/"* \
    "${stage}/var/cache/debconf/"*-old "${stage}/usr/share/common-licenses"
  find "${stage}/usr/lib/python3" -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
  # Like the upstream image: CMD python3, UTF-8 locale.
  ${OCI} --rootfs "${stage}" --name "docker.io/library/python:3.9-slim" --out "${out}" \
    --cmd '["python3"]' --env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" --env "LANG=C.UTF-8"
  rm -rf "${stage}"
}

built=()
for w in "${want[@]}"; do
  case "$w" in
    pause)
      "${ARL_ROOT}/hack/cluster/k8s-bins.sh" arl-pause
      build "${ARL_PAUSE_IMAGE}" "$(hash_of "$(arl::tools_bin_dir)/arl-pause" "${BASH_SOURCE[0]}" "${ARL_ROOT}/hack/cluster/oci-image.py")" build_pause ;;
    etcd)
      "${ARL_ROOT}/hack/cluster/k8s-bins.sh" etcd etcdctl etcdutl
      ETCD_BIN="$(arl::k8s_bin_dir)/etcd"
      ETCD_TOOLS=("$(arl::etcd_tools_bin_dir)/etcdctl" "$(arl::etcd_tools_bin_dir)/etcdutl")
      build "gcr.io/etcd-development/etcd:${ETCD_VERSION}" "$(hash_of "${ETCD_BIN}" "${ETCD_TOOLS[@]}" "${BASH_SOURCE[0]}" "${ARL_ROOT}/hack/cluster/oci-image.py")" build_etcd ;;
    arl)
      if [ -x "${ARL_ROOT}/hack/build.sh" ]; then
        "${ARL_ROOT}/hack/build.sh" >&2
      elif [ -d "${ARL_ROOT}/cmd/arl-apiserver" ] && [ -d "${ARL_ROOT}/cmd/arl-sidecar" ]; then
        (cd "${ARL_ROOT}" && go build -trimpath -o bin/ ./cmd/arl-apiserver ./cmd/arl-sidecar)
      fi
      for b in arl-apiserver arl-sidecar; do
        if [ ! -x "${ARL_ROOT}/bin/$b" ]; then
          arl::log "WARNING: bin/$b does not exist (no hack/build.sh or cmd/$b yet): image ghcr.io/arl-infra/$b not built"
          continue
        fi
        build "ghcr.io/arl-infra/$b:${ARL_VERSION_TAG}" "$(hash_of "${ARL_ROOT}/bin/$b" "${BASH_SOURCE[0]}" "${ARL_ROOT}/hack/cluster/oci-image.py")" build_arl "$b"
      done ;;
    python)
      build "docker.io/library/python:3.9-slim" "$(printf '%s|%s|%s|' "${PYTHON_SUITE}" "${PYTHON_PKGS}" "${PYTHON_RECIPE}" | cat - "${ARL_ROOT}/hack/cluster/oci-image.py" | sha256sum | cut -c1-16)" build_python ;;
    *) arl::die "unknown image $w (pause etcd arl python)" ;;
  esac
done

[ "${import}" = 1 ] || exit 0
if [ ! -S "${ARL_CONTAINERD_SOCK}" ]; then
  arl::log "containerd is not running (${ARL_CONTAINERD_SOCK}): images built, not imported"
  exit 0
fi
for entry in "${built[@]}"; do
  ref="${entry%%|*}"; file="${entry#*|}"
  want_digest="$(cat "${file}.digest")"
  have_digest="$(arl::ctr images ls "name==${ref}" 2>/dev/null | awk 'NR==2 {print $3}')"
  if [ "${have_digest}" = "${want_digest}" ]; then
    continue
  fi
  arl::log "importing ${ref} (${want_digest:7:12})"
  arl::ctr images import "${file}" >/dev/null
  # CRI needs the image unpacked for its snapshotter; import does that, this checks.
  arl::ctr images ls "name==${ref}" | grep -q "${want_digest}" || arl::die "import of ${ref} failed"
done

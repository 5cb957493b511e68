#!/usr/bin/env bash
# Fails when the committed Go code of proto/** is not what
# hack/update-proto.sh generates now.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
hack/update-proto.sh "${tmp}"

rc=0
while IFS= read -r f; do
  # The "// protoc vX" header line names the protoc build; a different
  # Debian patch release must not fail the check.
  if ! diff -u -I '^//[[:space:]]*protoc[[:space:]]' "${f}" "${tmp}/${f}"; then
    rc=1
  fi
done < <(cd "${tmp}" && find proto -name '*.go' | sort)
# Generated files whose proto was removed.
while IFS= read -r f; do
  [ -e "${tmp}/${f}" ] || { arl::log "stale generated file: ${f}"; rc=1; }
done < <(find proto -name '*.pb.go' | sort)

[ "${rc}" -eq 0 ] || arl::die "generated proto code is out of date: run hack/update-proto.sh"
arl::log "proto: generated code is current"

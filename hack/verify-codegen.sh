#!/usr/bin/env bash
# Fails when the generated code under pkg/ is not what hack/update-codegen.sh
# produces from the current types, or when our own types add API rule
# violations to the baseline. Regenerates in a copy; the tree is untouched.
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

if grep -q 'github.com/arl-infra/arl' hack/api-violations.list; then
  arl::die "hack/api-violations.list lists ARL types; fix them instead (every slice needs +listType, json names must match field names)"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
mkdir -p "${tmp}/hack" "${tmp}/pkg"
cp -a go.mod go.sum "${tmp}/"
cp -a pkg/apis pkg/generated "${tmp}/pkg/"
cp -a hack/lib hack/update-codegen.sh hack/boilerplate.go.txt hack/api-violations.list "${tmp}/hack/"
"${tmp}/hack/update-codegen.sh" >/dev/null

status=0
for dir in pkg/apis pkg/generated; do
  diff -Naupr "${dir}" "${tmp}/${dir}" || status=$?
done
diff -u hack/api-violations.list "${tmp}/hack/api-violations.list" || status=$?
[ "${status}" -eq 0 ] || arl::die "generated code is stale: run hack/update-codegen.sh and commit the result"
arl::log "generated code is up to date"

#!/usr/bin/env bash
# Runs golangci-lint (with kube-api-linter built in) over the module, with
# the curated configuration in .golangci.yml. The linter is built from the
# Go module proxy by the tool module hack/tools and cached under
# ~/.cache/arl/tools/<hash of its go.sum and the Go version>/.
# Usage: hack/lint.sh [golangci-lint run flags...]
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

key="$(cat hack/tools/go.sum hack/tools/go.mod | sha256sum | cut -c1-12)-$(go env GOVERSION)"
bin_dir="${ARL_CACHE}/tools/${key}"
linter="${bin_dir}/golangci-lint-kube-api-linter"
if [ ! -x "${linter}" ] || [ ! -f "${bin_dir}/.stamp" ]; then
  arl::log "building golangci-lint with kube-api-linter (cold: several minutes on 2 cores)"
  start=$SECONDS
  mkdir -p "${bin_dir}"
  (cd hack/tools && nice -n 10 go build -trimpath -ldflags "-s -w" -o "${linter}.tmp" sigs.k8s.io/kube-api-linter/cmd/golangci-lint-kube-api-linter)
  mv -f "${linter}.tmp" "${linter}"
  echo "$((SECONDS - start))s $(date -u +%FT%TZ)" > "${bin_dir}/.stamp"
  arl::log "built the linter in $((SECONDS - start))s"
fi
# Its own cache beside the binary: results of unchanged packages are reused.
export GOLANGCI_LINT_CACHE="${ARL_CACHE}/tools/golangci-lint-cache"
"${linter}" run "$@" ./...

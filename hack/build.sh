#!/usr/bin/env bash
# Builds the static binaries into bin/: arl-apiserver, arl-sidecar and the
# kubectl plugin kubectl-arl.
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

mkdir -p bin
# -s -w: the images carry these binaries; debug info would double their size.
go build -ldflags "-s -w" -o bin/ ./cmd/arl-apiserver ./cmd/arl-sidecar ./cmd/kubectl-arl

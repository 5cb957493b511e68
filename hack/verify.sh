#!/usr/bin/env bash
# Static checks: gofmt, go.mod tidy, go vet, golangci-lint with kube-api-linter,
# generated code and protobufs current, the monitoring rules and dashboard
# (promtool).
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

bad="$(git ls-files '*.go' | xargs gofmt -l)"
[ -z "${bad}" ] || arl::die "gofmt would change: ${bad}"
go mod tidy -diff >/dev/null || arl::die "go.mod/go.sum are not tidy: run go mod tidy"
go vet ./...
"${ARL_ROOT}/hack/lint.sh"
"${ARL_ROOT}/hack/verify-codegen.sh"
"${ARL_ROOT}/hack/verify-proto.sh"
"${ARL_ROOT}/hack/verify-monitoring.sh"

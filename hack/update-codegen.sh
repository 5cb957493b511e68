#!/usr/bin/env bash
# Regenerates deepcopy, conversion, defaults, openapi, clientset, listers and
# informers from the types in pkg/apis with k8s.io/code-generator (a go.mod tool).
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

THIS_PKG="github.com/arl-infra/arl"
CODEGEN_PKG="${CODEGEN_PKG:-$(go list -m -f '{{.Dir}}' k8s.io/code-generator)}"
BOILERPLATE="${ARL_ROOT}/hack/boilerplate.go.txt"
# The generators install into GOBIN; keep them out of the user's ~/go/bin
# and reuse them across runs.
export GOBIN="${ARL_CACHE}/bin/codegen-$(go list -m -f '{{.Version}}' k8s.io/code-generator)"
mkdir -p "${GOBIN}"
source "${CODEGEN_PKG}/kube_codegen.sh"

kube::codegen::gen_helpers \
  --boilerplate "${BOILERPLATE}" \
  "${ARL_ROOT}/pkg/apis"

# PodTemplateSpec (core/v1) and Scale (autoscaling/v1) appear in our API, so
# their models are generated too; hack/api-violations.list therefore holds
# upstream's known violations for those packages and none of ours
# (hack/verify-codegen.sh checks that).
kube::codegen::gen_openapi \
  --output-dir "${ARL_ROOT}/pkg/generated/openapi" \
  --output-pkg "${THIS_PKG}/pkg/generated/openapi" \
  --output-model-name-file "zz_generated.model_name.go" \
  --extra-pkgs k8s.io/api/core/v1 \
  --extra-pkgs k8s.io/api/autoscaling/v1 \
  --extra-pkgs k8s.io/apimachinery/pkg/util/intstr \
  --report-filename "${ARL_ROOT}/hack/api-violations.list" \
  ${UPDATE_API_KNOWN_VIOLATIONS:+--update-report} \
  --boilerplate "${BOILERPLATE}" \
  "${ARL_ROOT}/pkg/apis"

kube::codegen::gen_client \
  --with-watch \
  --output-dir "${ARL_ROOT}/pkg/generated" \
  --output-pkg "${THIS_PKG}/pkg/generated" \
  --boilerplate "${BOILERPLATE}" \
  "${ARL_ROOT}/pkg/apis"

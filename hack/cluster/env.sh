#!/usr/bin/env bash
# Prints the environment of the test cluster as `export KEY=VALUE` lines:
#   eval "$(hack/cluster/env.sh)"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
q() { printf '%q' "$1"; }
cat <<EOF
export KUBECONFIG=$(q "${ARL_KUBECONFIG}")
export ARL_E2E_KUBECONFIG=$(q "${ARL_KUBECONFIG}")
export ARL_E2E_KUBECTL=/usr/bin/kubectl
export ARL_E2E_PYTHON=/usr/bin/python3
export ARL_CLUSTER_DIR=$(q "${ARL_CLUSTER_DIR}")
export ARL_CLUSTER_LOGS=$(q "${ARL_CLUSTER_LOGS}")
export ARL_CLUSTER_NETNS=$(q "${ARL_NETNS}")
export ARL_K8S_BIN_DIR=$(q "$(arl::k8s_bin_dir)")
EOF

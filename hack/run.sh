#!/usr/bin/env bash
# `make run`: ARL standalone, with no cluster. Objects persist under .arl/;
# the server prints the KUBECONFIG line to use once it serves.
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

# The local runtime runs each sandbox in a bubblewrap sandbox, with the
# host's programs: the manual's examples call `python`.
arl::apt_ensure bubblewrap python-is-python3
"${ARL_ROOT}/hack/build.sh"
exec bin/arl-apiserver --standalone --data-dir "${ARL_DATA_DIR:-${ARL_ROOT}/.arl}" "$@"

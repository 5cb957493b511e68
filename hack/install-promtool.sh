#!/usr/bin/env bash
# Builds promtool (Prometheus' rule checker and rule unit tester) from the
# Go module proxy at the version the tool module hack/prometheus-tools pins,
# and prints its path on stdout. Used by hack/verify-monitoring.sh.
#
# Cached as ~/.cache/arl/bin/promtool-<module version>/promtool: a version
# bump builds anew; otherwise the binary is reused. Its stamp holds a hash of
# the tool module (go.mod, go.sum), the Go version and the build flags, so a
# change of those rebuilds it in place. Concurrent callers wait for one build.
#
# Built with -tags remove_all_sd: without Prometheus' service-discovery
# plugins (cloud SDKs, client-go), which `promtool check rules` and `promtool
# test rules` never use. Cold on 2 shared cores: 290 s with empty Go build
# and module caches, 207 s on a development machine's build cache; without
# the tag 628 s. Warm: under a second (docs/monitoring.md).
# (`promtool check config` of a configuration using such a discovery would
# fail with this build; set PROMTOOL_TAGS= for a full one.)
#
# Usage: hack/install-promtool.sh
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

mod_dir="${ARL_ROOT}/hack/prometheus-tools"
cd "${mod_dir}"

# The pinned version, from go.mod itself (no network needed to reuse a build).
version="$(awk '$1 == "require" && $2 == "github.com/prometheus/prometheus" { print $3 }
                $1 == "github.com/prometheus/prometheus" { print $2 }' go.mod | head -n1)"
[ -n "${version}" ] || arl::die "no github.com/prometheus/prometheus requirement in ${mod_dir}/go.mod"

tags="${PROMTOOL_TAGS-remove_all_sd}"
bin_dir="${ARL_CACHE}/bin/promtool-${version}"
promtool="${bin_dir}/promtool"
key="$( { printf '%s|%s|%s|%s|' "$(go env GOVERSION)" "${GOFLAGS:-}" "${CGO_ENABLED:-}" "${tags}";
          cat go.mod go.sum; } | sha256sum | cut -c1-16)"

current() { [ -x "${promtool}" ] && [ "$(head -n1 "${bin_dir}/.stamp" 2>/dev/null)" = "${key}" ]; }

if ! current; then
  mkdir -p "${bin_dir}"
  exec 8>"${bin_dir}/.lock"
  if ! flock -n 8; then
    arl::log "waiting for another build of promtool ${version} (lock ${bin_dir}/.lock)"
    flock 8
  fi
  if ! current; then
    arl::log "building promtool ${version} (cold: ~5 min on 2 cores)"
    start=$SECONDS
    go mod download github.com/prometheus/prometheus
    prom_dir="$(go list -m -f '{{.Dir}}' github.com/prometheus/prometheus)"
    vpkg=github.com/prometheus/common/version
    ldflags="-s -w -X ${vpkg}.Version=$(cat "${prom_dir}/VERSION") -X ${vpkg}.Branch=${version}"
    # nice: the machine is shared; the build is the long pole, not the hurry.
    nice -n 10 go build -trimpath -tags "${tags}" -ldflags "${ldflags}" \
      -o "${promtool}.tmp" github.com/prometheus/prometheus/cmd/promtool
    mv -f "${promtool}.tmp" "${promtool}"
    printf '%s\n%ss %s %s tags=%s\n' "${key}" "$((SECONDS - start))" "$(date -u +%FT%TZ)" \
      "$(go env GOVERSION)" "${tags}" > "${bin_dir}/.stamp"
    arl::log "built promtool ${version} in $((SECONDS - start))s"
  fi
  exec 8>&-
fi
echo "${promtool}"

#!/usr/bin/env bash
# Benchmarks of arl-sidecar against the fork/exec/wait floor measured in the
# same run (docs/performance.md, "Sidecar"): Execute true over the agent's
# unix socket and over TCP+mTLS through serve, UpdateFiles of 1 KiB and
# 1 MiB. Each iteration times the call and the floor back to back.
# Usage: hack/bench/sidecar.sh [ITERATIONS]   (default 2000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
cd "${ARL_ROOT}"

n="${1:-${BENCH_ITERATIONS:-2000}}"
out="$(mktemp)"
trap 'rm -f "${out}"' EXIT

arl::log "sidecar benchmarks, ${n} iterations each (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
go test -run '^$' -bench . -benchtime "${n}x" -count 1 ./test/integration/sidecar/ | tee "${out}"

# One line per benchmark: the metrics that docs/performance.md records.
awk '
  /^Benchmark/ {
    name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
    for (i = 3; i < NF; i += 2) m[$(i + 1)] = $i
    printf "%-28s p50 %6.3f ms  p99 %7.3f ms  floor p50 %6.3f ms  p99 %7.3f ms  p50-floor %+6.3f ms  p50/floor %5.2f\n",
      name, m["p50-ms"], m["p99-ms"], m["floor-p50-ms"], m["floor-p99-ms"], m["p50-over-floor-ms"], m["p50/floor"]
  }' "${out}"

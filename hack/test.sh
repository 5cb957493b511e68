#!/usr/bin/env bash
# The project's test entry point (`make test` = `hack/test.sh all`).
#   verify       gofmt, go vet, generated code and protobufs current, monitoring rules (promtool)
#   unit         go test -race of pkg/ and cmd/ (real etcd embedded where storage is tested)
#   fuzz         every fuzz target for a few seconds (FUZZTIME=5m: that long
#                each; `make fuzz`); corpora in <package>/testdata/fuzz
#   integration  the real binaries, standalone, driven by /usr/bin/kubectl,
#                the generated clientset and Debian's python3-kubernetes
#                (go test -race)
#   python       the Python SDK's suite (sdk/python/tests) against a
#                standalone server it starts itself
#   cluster      the Go and Python e2e suites and the SDK's suite against a
#                real single-node Kubernetes through the aggregation layer
#                (brought up when it is not up, torn down after)
#   fast         verify + unit + fuzz + integration + python
#   all          fast + cluster
# Every phase prints its time.
set -o errexit -o nounset -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "${ARL_ROOT}"

GO_TEST_FLAGS=(${ARL_GO_TEST_FLAGS:--timeout=45m})

deps() {
  # bubblewrap: the standalone local runtime; python3-*: the Python suites;
  # util-linux: unshare for the agent-as-PID-1 test; python-is-python3: the
  # manual's `python` inside standalone sandboxes (they run host programs);
  # gcc, libc6-dev: the race detector, which needs cgo; tmux: a real
  # terminal for kubectl arl shell.
  arl::apt_ensure bubblewrap python3-kubernetes python3-pytest python-is-python3 util-linux procps \
    gcc libc6-dev tmux
}

# go_test_race runs go test under the race detector. It needs cgo, for
# these test binaries only: what we build and ship stays CGO_ENABLED=0.
go_test_race() {
  CGO_ENABLED=1 go test -race "${GO_TEST_FLAGS[@]}" "$@"
}

build() {
  "${ARL_ROOT}/hack/build.sh"
  export ARL_APISERVER_BIN="${ARL_ROOT}/bin/arl-apiserver"
  export ARL_SIDECAR_BIN="${ARL_ROOT}/bin/arl-sidecar"
  export ARL_KUBECTL_ARL_BIN="${ARL_ROOT}/bin/kubectl-arl"
}

phase_verify() { "${ARL_ROOT}/hack/verify.sh"; }

phase_unit() {
  go_test_race ./pkg/... ./cmd/...
}

# phase_fuzz runs each fuzz target in turn (-fuzz takes one target per
# run), for its share of about two minutes on 2 cores: its committed corpus
# (<package>/testdata/fuzz/<target>/), then a number of new inputs. A count,
# not a duration: with a duration, Go 1.26's fuzz coordinator may fail a
# target with a bare "context deadline exceeded" and no failing input when
# the time runs out under load (go.dev/issue/75804, fixed in Go 1.27; seen
# here on FuzzLexicalPath, 2026-12-03). The bounded runs use
# one instrumented test binary per package and a throwaway cache, so that
# their time does not grow with the inputs earlier runs found, and skip
# minimising new inputs. FUZZTIME (`make fuzz`) runs each target that long
# with go test's own cache instead. A failing input is written to the
# target's testdata/fuzz directory: commit it with the fix.
phase_fuzz() {
  local targets=(
    ./pkg/sidecar/agent FuzzLexicalPath 25000x
    ./pkg/sidecar/agent FuzzExecute 25000x
    ./pkg/sidecar/agent FuzzFiles 10000x
    ./pkg/sidecar/agent FuzzSignalProcess 8000x
    ./pkg/sidecar/agent FuzzInteractiveShell 20000x
    ./pkg/sidecar/serve FuzzServeFrames 10000x
    ./pkg/apis/arl/install FuzzDecodeTask 1500x
    ./pkg/apis/arl/install FuzzDecodeSandbox 800x
    ./pkg/apis/arl/install FuzzDecodeWarmPool 700x
    ./pkg/apis/arl/validation FuzzStoredSuffix 15000x
  )
  local tmp i pkg name bin rc=0
  tmp="$(mktemp -d)"
  for ((i = 0; i < ${#targets[@]}; i += 3)); do
    pkg="${targets[i]}" name="${targets[i + 1]}"
    if [ -n "${FUZZTIME:-}" ]; then
      arl::timed "fuzz ${name}" go test "${GO_TEST_FLAGS[@]}" -run '^$' -fuzz "^${name}\$" \
        -fuzztime "${FUZZTIME}" "${pkg}" || rc=$?
      continue
    fi
    bin="${tmp}/${pkg##*/}.test"
    if [ ! -x "${bin}" ] && ! go test -c -fuzz . -o "${bin}" "${pkg}"; then
      rc=1
      continue
    fi
    arl::timed "fuzz ${name}" env -C "${pkg}" "${bin}" -test.run '^$' -test.fuzz "^${name}\$" \
      -test.fuzztime "${targets[i + 2]}" -test.fuzzminimizetime 0s \
      -test.fuzzcachedir "${tmp}/cache" -test.timeout 10m || rc=$?
  done
  rm -rf "${tmp}"
  return "${rc}"
}

phase_integration() {
  build
  go_test_race ./test/integration/...
}

phase_python() {
  build
  sdk_pytest
}

# sdk_pytest runs the SDK's suite from its own directory (its pytest
# configuration puts the checkout on sys.path); with ARL_E2E_KUBECONFIG set
# it targets the cluster, else it starts its own standalone server.
sdk_pytest() {
  (cd "${ARL_ROOT}/sdk/python" && pytest_run tests)
}

phase_cluster() {
  build
  # up.sh also runs on a cluster that is up: it imports the images just
  # built and restarts arl-apiserver, so the suites test this tree.
  local started=""
  "${ARL_ROOT}/hack/cluster/status.sh" >/dev/null 2>&1 || started=1
  arl::timed "cluster up" "${ARL_ROOT}/hack/cluster/up.sh"
  eval "$("${ARL_ROOT}/hack/cluster/env.sh")"
  export ARL_E2E_REQUIRED=1
  local rc=0
  # -count=1: a cached pass says nothing about the cluster as it is now.
  arl::timed "e2e (go)" go test -count=1 "${GO_TEST_FLAGS[@]}" ./test/e2e/... || rc=$?
  if [ -d test/e2e/python ]; then
    arl::timed "e2e (python)" pytest_run test/e2e/python || rc=$?
  fi
  arl::timed "sdk (python, cluster)" sdk_pytest || rc=$?
  if [ -n "${started}" ] && [ -z "${ARL_KEEP_CLUSTER:-}" ]; then
    arl::timed "cluster down" "${ARL_ROOT}/hack/cluster/down.sh" || rc=$?
  fi
  return "${rc}"
}

# pytest_run DIR runs Debian's pytest (the pyenv python first on PATH cannot
# see Debian's packages); exit code 5 (no tests collected) is a failure too.
pytest_run() {
  local rc=0
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" || rc=$?
  if [ "${rc}" -eq 5 ]; then
    arl::log "pytest collected no tests in $*: a suite that runs nothing is a failure"
  fi
  return "${rc}"
}

main() {
  local what="${1:-all}" start=$SECONDS rc=0
  arl::timed "dependencies" deps
  case "${what}" in
    verify | unit | fuzz | integration | python | cluster)
      arl::timed "${what}" "phase_${what}" || rc=$?
      ;;
    fast | all)
      local p
      local phases=(verify unit fuzz integration python)
      [ "${what}" = all ] && phases+=(cluster)
      for p in "${phases[@]}"; do
        arl::timed "${p}" "phase_${p}" || rc=$?
      done
      ;;
    *) arl::die "unknown phase ${what}: verify|unit|fuzz|integration|python|cluster|fast|all" ;;
  esac
  arl::log "hack/test.sh ${what}: $((SECONDS - start))s, exit ${rc}"
  return "${rc}"
}

main "$@"

#!/usr/bin/env bash
# Shared helpers for hack/ scripts. Source it; it defines functions only
# (plus ARL_ROOT, ARL_CACHE and the Go build flags every script must share).

ARL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
ARL_CACHE="${ARL_CACHE:-${HOME}/.cache/arl}"
export ARL_ROOT ARL_CACHE

# The same flags for every build and test so our packages share the build
# cache with the Kubernetes binaries (see docs/development.md).
export GOFLAGS="-trimpath -buildvcs=false"
export CGO_ENABLED="${CGO_ENABLED:-0}"

arl::log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
arl::die() { arl::log "ERROR: $*"; exit 1; }

# arl::apt_ensure PKG... installs the Debian packages that are missing, once.
arl::apt_ensure() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  arl::log "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
    $sudo apt-get update -q >/dev/null
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# arl::timed NAME CMD... runs CMD and prints how long the phase took.
arl::timed() {
  local name="$1"; shift
  local start=$SECONDS rc=0
  arl::log "== ${name}"
  "$@" || rc=$?
  arl::log "== ${name}: $((SECONDS - start))s (exit ${rc})"
  return "$rc"
}

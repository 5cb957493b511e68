#!/usr/bin/env bash
# Regenerates the Go code of proto/**.proto with Debian's protoc and the
# protoc-gen-go / protoc-gen-go-grpc versions pinned as tools in go.mod.
# Usage: hack/update-proto.sh [OUTPUT_ROOT]   (default: the repository)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

out="${1:-${ARL_ROOT}}"
cd "${ARL_ROOT}"

command -v protoc >/dev/null || arl::apt_ensure protobuf-compiler

bin="${ARL_ROOT}/_output/protoc-bin"
mkdir -p "${bin}"
# `go build` of the tool packages resolves them at the versions go.mod pins.
go build -o "${bin}/" \
  google.golang.org/protobuf/cmd/protoc-gen-go \
  google.golang.org/grpc/cmd/protoc-gen-go-grpc

mapfile -t protos < <(find proto -name '*.proto' | sort)
for p in "${protos[@]}"; do
  mkdir -p "${out}/$(dirname "${p}")"
  protoc \
    --plugin=protoc-gen-go="${bin}/protoc-gen-go" \
    --plugin=protoc-gen-go-grpc="${bin}/protoc-gen-go-grpc" \
    --proto_path=. \
    --go_out="${out}" --go_opt=paths=source_relative \
    --go-grpc_out="${out}" --go-grpc_opt=paths=source_relative \
    "${p}"
done
arl::log "generated Go for ${#protos[@]} proto file(s) under ${out}"

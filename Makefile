# ARL: every target delegates to a script under hack/ so CI, developers and
# the README run exactly the same steps.
SHELL := /usr/bin/env bash

# -trimpath everywhere: our packages then share the Go build cache with the
# Kubernetes binaries built by hack/cluster (docs/development.md).
export GOFLAGS := -trimpath -buildvcs=false
export CGO_ENABLED := 0

.PHONY: all build run test test-fast test-unit test-integration test-cluster test-python \
	fuzz bench test-scale update-codegen verify-codegen update-proto verify-proto verify lint \
	cluster-up cluster-down images clean

all: build

## build: compile arl-apiserver and arl-sidecar into bin/
build:
	hack/build.sh

## run: start ARL standalone (embedded etcd, local runtime); prints KUBECONFIG
run:
	hack/run.sh

## test: every suite (unit, integration, cluster e2e, python); brings the test cluster up if needed
test:
	hack/test.sh all

## test-fast: verify, unit, standalone integration and Python SDK suites, no cluster
test-fast:
	hack/test.sh fast

test-unit:
	hack/test.sh unit

test-integration:
	hack/test.sh integration

test-cluster:
	hack/test.sh cluster

test-python:
	hack/test.sh python

## fuzz: every fuzz target for FUZZTIME each (default 1m); make test runs them for seconds
FUZZTIME ?= 1m
fuzz:
	FUZZTIME=$(FUZZTIME) hack/test.sh fuzz

## bench: benchmarks with p50/p99 against their floors (docs/performance.md)
bench:
	hack/bench.sh

## test-scale: 10,000 warm pods on kwok nodes, bursts, double-bind check, memory, TTL cleanup (~50 min; not in test)
test-scale:
	hack/scale.sh

update-codegen:
	hack/update-codegen.sh

verify-codegen:
	hack/verify-codegen.sh

update-proto:
	hack/update-proto.sh

verify-proto:
	hack/verify-proto.sh

## verify: generated code is current, gofmt and go vet are clean
verify:
	hack/verify.sh

## lint: golangci-lint with kube-api-linter (.golangci.yml)
lint:
	hack/lint.sh

## cluster-up / cluster-down: the single-node Kubernetes used by the cluster suites
cluster-up:
	hack/cluster/up.sh

cluster-down:
	hack/cluster/down.sh

images:
	hack/cluster/images.sh

clean:
	rm -rf bin _output

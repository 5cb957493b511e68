//go:build tools

// Package tools pins the linters hack/verify.sh runs: golangci-lint with
// kube-api-linter built in (kube-api-linter's golangci-lint command
// registers it as the module plugin "kubeapilinter"). It is a module of its
// own so that the main go.mod does not depend on them.
package tools

import (
	_ "sigs.k8s.io/kube-api-linter/cmd/golangci-lint-kube-api-linter"
)

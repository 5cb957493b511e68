//go:build tools

// Package tools pins the Kubernetes commands (and etcd) that hack/cluster builds.
// kubectl needs its own line, or go.sum misses cli-runtime.
package tools

import (
	// etcd at the version Kubernetes v1.37.2 pins (same as the arl-etcd image tag).
	_ "go.etcd.io/etcd/server/v3"

	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)

//go:build tools

// Package tools pins kwok (Kubernetes WithOut Kubelet) for the scale suite
// (hack/scale.sh): it simulates nodes and the pods bound to them on the test
// cluster, so 10,000 warm pods fit a 2-core machine. hack/cluster/k8s-bins.sh
// builds it from this module, apart from the cluster's own binaries.
package tools

import (
	_ "sigs.k8s.io/kwok/cmd/kwok"
)

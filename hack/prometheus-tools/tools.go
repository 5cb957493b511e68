//go:build tools

// Package tools pins Prometheus for hack/verify-monitoring.sh: its promtool
// checks and unit-tests the alerting and recording rules of
// artifacts/monitoring and the PromQL of the Grafana dashboard there.
// hack/install-promtool.sh builds it from this module. It is a module of its
// own so that the main go.mod does not depend on Prometheus.
package tools

import (
	_ "github.com/prometheus/prometheus/cmd/promtool"
)

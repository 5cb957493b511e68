//go:build tools

// Package tools pins etcdctl and etcdutl at the version of the etcd that
// hack/cluster builds (v3.7.0): the test cluster's etcd image carries them,
// as the upstream image does (backups are restored with etcdutl).
package tools

import (
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
)

/*
Copyright 2026 The ARL Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package certs creates and rotates the certificates of an ARL
// installation in a cluster, from inside arl-apiserver: nothing to run
// before the install, nothing to renew by hand.
//
// Two CAs, each in a Secret of the server's namespace, sign the rest:
//
//	arl-apiserver-ca      arl-apiserver-serving-cert  serving certificate of arl-apiserver.<ns>.svc;
//	                                                  its CA is the APIService's caBundle
//	arl-etcd-ca           arl-etcd-peer               etcd members: client and peer serving, peer client
//	                      arl-etcd-client             arl-apiserver's etcd client certificate
//	                      arl-etcd-maintenance        the backup and defragmentation CronJobs' client certificate
//
// Every replica runs a Manager: the first to find a Secret missing creates
// it (a create that loses the race reads the winner's), and whoever finds
// a leaf certificate past two thirds of its life issues the next one
// (an update with the Secret's resourceVersion: one replica wins). The
// replica writes its own serving and etcd client material to files, which
// the server reloads (k8s.io/apiserver's dynamic serving certificates; the
// etcd client reads them on every new connection); etcd reloads its Secret
// volume on every handshake. The CAs last ten years; replacing one is a
// documented procedure (docs/operations.md).
package certs

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

// Package claims binds pool pods in ARL's own etcd instead of through
// kube-apiserver.
//
// A bind used to be a conditional pod update through kube-apiserver (its
// admission, its etcd, its watch fan-out to the kubelet and every
// informer) before the Sandbox write; on a busy node that pod write was
// most of a bind. Here a bind is one etcd transaction that creates the
// pod's claim key only if it does not exist (so no pod is ever bound
// twice, across replicas), and the pod's labels follow asynchronously.
// A Sandbox create writes that key in its own transaction (SandboxStorage,
// pool.ClaimSlot): a warm bind is one write to ARL's etcd.
//
// The Ledger is every replica's view of the claims (a list, then a
// watch). Runtime wraps a pool.Runtime: the pods it reports carry their
// claim (a claimed pod is allocated whatever its labels say yet), Claim
// writes a claim, Release and Delete remove it, and a labeler brings each
// claimed pod's labels in line (within milliseconds; after a crash, when
// the pod is next seen). Labels remain what a restarted server, kubectl
// and label selectors read; the claim decides who holds a pod.
package claims

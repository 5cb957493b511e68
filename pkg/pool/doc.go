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

// Package pool keeps WarmPools' pods warm and binds them to Sandboxes.
//
// Pods carry the state: their labels say which pool they belong to, whether
// they are idle or allocated and to which Sandbox, so a restarted server
// rebuilds everything from them (and, in a cluster, from the claims in ARL's
// etcd that package claims adds to a Runtime: a claim decides who holds a
// pod before its labels say so). Every arl-apiserver runs a
// Controller, which has two parts:
//
//   - its Binder, on every replica (Controller.Run feeds its free list),
//     hands an idle Ready pod to a Sandbox being created, from an in-memory
//     free list; the Runtime's Claim (a conditional write) makes two
//     replicas never hand out one pod;
//   - the pool manager, Controller.Lead, on the elected leader only, creates
//     and deletes pods to keep each pool's idle count, replaces failed ones,
//     rolls idle pods when the template changes, binds pods to Pending
//     Sandboxes, fails Sandboxes whose pod died, and writes WarmPool status.
//
// A Runtime supplies the pods: Kubernetes pods (package kube) or local
// bubblewrap sandboxes for standalone mode (package local).
package pool

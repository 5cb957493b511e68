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

// Package storeguard keeps arl-apiserver from serving, or acting on, an
// etcd that is not the store its installation has been writing.
//
// ARL's etcd is the only copy of WarmPools, Sandboxes and Tasks. When it
// comes back empty (a data volume lost), is replaced by another etcd, or is
// rewound (an old snapshot restored), a running server would otherwise go
// on serving its watch cache, and a restarted one would find every pool
// and Sandbox gone and delete their pods. The guard notices instead:
//
//   - the store carries a marker key with a UID, written once, the first
//     time an installation uses it;
//   - the installation remembers, outside etcd (an Anchor: a ConfigMap in
//     the server's namespace, or a file in standalone mode), that UID, the
//     etcd cluster ID and the highest revision seen;
//   - every replica checks, at start and then every second, that the store
//     still has that marker, that cluster ID, and a revision no lower than
//     the highest seen.
//
// A failed check latches: the replica reports not ready, answers every
// resource request 503 and the pool manager stops acting, until an
// administrator decides (deletes the anchor, then restarts the server,
// whose caches then come from the store as it is). A check that cannot
// reach etcd decides nothing: an etcd that is down is not a wrong etcd.
package storeguard

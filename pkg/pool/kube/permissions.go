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

package kube

// Permission is one thing arl-apiserver asks of kube-apiserver, and why.
// artifacts/deploy/04-rbac.yaml grants exactly the server's permissions
// (cmd/arl-apiserver/app/options compares them).
type Permission struct {
	// Namespace is where it holds: "" in every namespace (the ClusterRole),
	// else a Role there; "arl-system" is the server's own namespace.
	Namespace     string
	Group         string
	Resource      string
	ResourceNames []string
	Verbs         []string
	Why           string
}

// ServerNamespace stands for arl-apiserver's own namespace in Permissions:
// the one artifacts/deploy installs it in.
const ServerNamespace = "arl-system"

// Permissions are what the Kubernetes runtime does: its informers list and
// watch, the pool manager creates, claims (patch) and deletes pods, and
// keeps Secrets and NetworkPolicies. Nothing here reads a Secret it did not
// write.
var Permissions = []Permission{
	{Group: "", Resource: "pods", Verbs: []string{"list", "watch", "create", "patch", "delete"},
		Why: "pool pods: the informer lists and watches them, the pool manager creates and deletes them, a bind claims one with a patch"},
	{Group: "", Resource: "pods/resize", Verbs: []string{"patch"},
		Why: "a Sandbox with spec.resources resizes its pod's executor in place when it is bound"},
	{Group: "", Resource: "secrets", Verbs: []string{"create"},
		Why: "the sidecar CA (in the server's namespace) and each pool namespace's sidecar TLS Secret are created when missing"},
	{Group: "", Resource: "secrets", ResourceNames: []string{TLSSecret}, Verbs: []string{"get", "update"},
		Why: "a pool namespace's sidecar TLS Secret is read before each pod is created (does it exist?) and renewed before it expires; no other Secret"},
	{Group: "", Resource: "namespaces", Verbs: []string{"get"},
		Why: "the server's own Namespace, which pool pods and sidecar Secrets name as their owner (an uninstall removes them); admission reads every Namespace anyway"},
	{Namespace: ServerNamespace, Group: "", Resource: "secrets", ResourceNames: []string{CASecret}, Verbs: []string{"get"},
		Why: "the sidecar CA, read at start: it signs the sidecars' and the replicas' certificates"},
	{Group: "networking.k8s.io", Resource: "networkpolicies", Verbs: []string{"list", "watch", "create", "update", "delete"},
		Why: "each pool's NetworkPolicy: the informer lists and watches them, the pool manager creates, updates and deletes them with their pool"},
	{Namespace: "default", Group: "discovery.k8s.io", Resource: "endpointslices", Verbs: []string{"list", "watch"},
		Why: "kube-apiserver's addresses (Service default/kubernetes), which pools' Internet egress excludes"},
}

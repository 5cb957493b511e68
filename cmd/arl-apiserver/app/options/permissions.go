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

package options

import "github.com/arl-infra/arl/pkg/pool/kube"

// genericServerPermissions are what k8s.io/apiserver's RecommendedOptions
// need of kube-apiserver besides delegated authentication and
// authorization (02-auth-delegator.yaml, 03-auth-reader.yaml).
var genericServerPermissions = []kube.Permission{
	{Group: "", Resource: "namespaces", Verbs: []string{"get", "list", "watch"},
		Why: "admission: NamespaceLifecycle refuses objects in namespaces being deleted (informer, and a get when the cache misses one)"},
	{Group: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations", Verbs: []string{"list", "watch"},
		Why: "admission: MutatingAdmissionWebhook's informer"},
	{Group: "admissionregistration.k8s.io", Resource: "validatingwebhookconfigurations", Verbs: []string{"list", "watch"},
		Why: "admission: ValidatingAdmissionWebhook's informer"},
	{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicies", Verbs: []string{"list", "watch"},
		Why: "admission: ValidatingAdmissionPolicy's informer"},
	{Group: "admissionregistration.k8s.io", Resource: "validatingadmissionpolicybindings", Verbs: []string{"list", "watch"},
		Why: "admission: ValidatingAdmissionPolicy's informer"},
	{Group: "admissionregistration.k8s.io", Resource: "mutatingadmissionpolicies", Verbs: []string{"list", "watch"},
		Why: "admission: MutatingAdmissionPolicy's informer"},
	{Group: "admissionregistration.k8s.io", Resource: "mutatingadmissionpolicybindings", Verbs: []string{"list", "watch"},
		Why: "admission: MutatingAdmissionPolicy's informer"},
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "flowschemas", Verbs: []string{"list", "watch"},
		Why: "API priority and fairness: its configuration informer"},
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "prioritylevelconfigurations", Verbs: []string{"list", "watch"},
		Why: "API priority and fairness: its configuration informer"},
	{Group: "flowcontrol.apiserver.k8s.io", Resource: "flowschemas/status", Verbs: []string{"patch"},
		Why: "API priority and fairness: it applies the Dangling condition of FlowSchemas whose priority level is missing"},
}

// Permissions are everything arl-apiserver asks of kube-apiserver in a
// cluster: the generic server's, the Events it records, the Leases of its
// replicas, and the Kubernetes runtime's (kube.Permissions).
func Permissions() []kube.Permission {
	out := append([]kube.Permission{}, genericServerPermissions...)
	out = append(out,
		kube.Permission{Group: "", Resource: "events", Verbs: []string{"create", "patch"},
			Why: "Events of WarmPools and Sandboxes in their namespaces (client-go's recorder creates, then patches the count of a repeated one)"},
		kube.Permission{Group: "arl.infra.io", Resource: "tasks/log", Verbs: []string{"get"},
			Why: "a replica asked for the log of a Task that another replica runs asks that replica for it, as itself (package peers)"},
		kube.Permission{Namespace: kube.ServerNamespace, Group: "coordination.k8s.io", Resource: "leases", Verbs: []string{"get", "create", "update", "delete"},
			Why: "the pool manager's leader election (arl-pool-manager) and each replica's runner Lease (renewed; deleted on shutdown)"},
	)
	return append(out, kube.Permissions...)
}

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

package pool

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// DefaultWorkDir is where Tasks run unless a step says otherwise.
const DefaultWorkDir = "/workspace"

// Reasons of the Sandbox "Ready" condition.
const (
	ReasonBound         = "Bound"
	ReasonWaitingForPod = "WaitingForPod"
	ReasonPoolNotFound  = "PoolNotFound"
	ReasonPodLost       = "PodLost"
	ReasonPoolDeleted   = "PoolDeleted"
)

// boundStatus is the status of a Sandbox bound to pod.
func boundStatus(pod *Pod, address string, now time.Time) arl.SandboxStatus {
	t := metav1.NewTime(now)
	return arl.SandboxStatus{
		Phase:            arl.SandboxReady,
		PodName:          pod.Name,
		PodUID:           pod.UID,
		PodIP:            address,
		NodeName:         pod.Node,
		WorkDir:          DefaultWorkDir,
		BoundTime:        &t,
		LastActivityTime: &t,
		Conditions: []metav1.Condition{{
			Type: arl.SandboxConditionReady, Status: metav1.ConditionTrue, Reason: ReasonBound,
			Message: "pod " + pod.Name + " is bound", LastTransitionTime: t,
		}},
	}
}

// pendingStatus is the status of a Sandbox that waits for a pod.
func pendingStatus(reason, message string, now time.Time) arl.SandboxStatus {
	return arl.SandboxStatus{
		Phase:   arl.SandboxPending,
		WorkDir: DefaultWorkDir,
		Conditions: []metav1.Condition{{
			Type: arl.SandboxConditionReady, Status: metav1.ConditionFalse, Reason: reason,
			Message: message, LastTransitionTime: metav1.NewTime(now),
		}},
	}
}

// Reasons of the WarmPool "Refilling" condition.
const (
	refillFull            = "Full"
	refillCreating        = "Creating"
	refillDeferred        = "Deferred"
	refillBackingOff      = "BackingOff"
	refillNetworkNotReady = "NetworkNotReady"
)

// refillState is what a pool's sync did about its idle pods.
type refillState struct{ reason, message string }

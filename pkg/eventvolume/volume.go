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

// Package eventvolume says which of a kind of routine Event a server
// records. Each Event is one more write to kube-apiserver's store: a fleet
// binding sandboxes and running Tasks many times a second may keep only the
// Events that say something went wrong.
package eventvolume

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Volume is all, failures or none.
type Volume string

const (
	// All records every Event (so does the zero Volume).
	All Volume = "all"
	// Failures records Warning Events only.
	Failures Volume = "failures"
	// None records none.
	None Volume = "none"
)

// Records says whether an Event of eventType (corev1.EventTypeNormal or
// corev1.EventTypeWarning) is recorded.
func (v Volume) Records(eventType string) bool {
	switch v {
	case None:
		return false
	case Failures:
		return eventType == corev1.EventTypeWarning
	default:
		return true
	}
}

// Validate refuses anything but all, failures and none; flag names the
// setting in the message.
func (v Volume) Validate(flag string) error {
	switch v {
	case All, Failures, None:
		return nil
	}
	return fmt.Errorf("%s must be all, failures or none, not %q", flag, string(v))
}

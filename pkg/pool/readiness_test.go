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
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// TestUnreadyPodReplacedAfterReadyTimeout: an idle pod is replaced once it
// has not been Ready for ReadyTimeout: since it was created when it never
// was, since it stopped being Ready when it was (a blip, such as its
// node's kubelet restarting, replaces nothing).
func TestUnreadyPodReplacedAfterReadyTimeout(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name          string
		created       time.Time
		notReadySince time.Time
		replaced      bool
	}{
		{"never Ready, young", now.Add(-time.Minute), time.Time{}, false},
		{"never Ready, past the timeout", now.Add(-6 * time.Minute), time.Time{}, true},
		{"Ready for an hour, a blip", now.Add(-time.Hour), now.Add(-10 * time.Second), false},
		{"Ready once, unready past the timeout", now.Add(-time.Hour), now.Add(-6 * time.Minute), true},
		{"condition older than the pod (clock skew)", now.Add(-6 * time.Minute), now.Add(-time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := &arlv1alpha1.WarmPool{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "uid-p"},
				Spec: arlv1alpha1.WarmPoolSpec{Replicas: ptr.To[int32](2), Template: corev1.PodTemplateSpec{
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: arl.ExecutorContainerName, Image: "python:3.9-slim"}}}}},
			}
			hash := HashTemplate(&pool.Spec.Template)
			ready := idlePod("ns", "p", "ready")
			unready := idlePod("ns", "p", "unready")
			unready.Ready, unready.Created, unready.NotReadySince = false, tc.created, tc.notReadySince
			ready.TemplateHash, unready.TemplateHash = hash, hash

			h := newHarness(t, ready, unready)
			if _, err := h.cs.ArlV1alpha1().WarmPools("ns").Create(context.Background(), pool, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			h.waitFor(t, "the pool in the cache", func() bool {
				_, err := h.c.pools.WarmPools("ns").Get("p")
				return err == nil
			})
			if _, err := h.c.syncPool(context.Background(), "ns/p"); err != nil {
				t.Fatal(err)
			}
			_, kept := h.rt.Get("ns", "unready")
			if kept == tc.replaced {
				t.Errorf("unready pod kept %v, want replaced %v", kept, tc.replaced)
			}
			if _, ok := h.rt.Get("ns", "ready"); !ok {
				t.Error("the Ready pod was deleted")
			}
		})
	}
}

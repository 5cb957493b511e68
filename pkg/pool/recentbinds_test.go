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
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

func readySandbox(uid, pool string, took time.Duration) *arlv1alpha1.Sandbox {
	return &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: uid, UID: types.UID(uid)},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: pool},
		Status:     arlv1alpha1.SandboxStatus{Phase: arlv1alpha1.SandboxReady, BindDuration: &metav1.Duration{Duration: took}},
	}
}

func pendingSandbox(uid, pool string) *arlv1alpha1.Sandbox {
	return &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: uid, UID: types.UID(uid)},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: pool},
		Status:     arlv1alpha1.SandboxStatus{Phase: arlv1alpha1.SandboxPending},
	}
}

func TestRecentBinds(t *testing.T) {
	ms := func(n int) metav1.Duration { return metav1.Duration{Duration: time.Duration(n) * time.Millisecond} }
	cases := []struct {
		name string
		feed func(r *recentBinds)
		want *arlv1alpha1.WarmPoolBinds
	}{
		{name: "no bind yet", feed: func(*recentBinds) {}, want: nil},
		{name: "a bind at create, seen by its add", feed: func(r *recentBinds) {
			r.observe(nil, readySandbox("a", "p", 7*time.Millisecond))
		}, want: &arlv1alpha1.WarmPoolBinds{Count: 1, P50: ms(7), P99: ms(7)}},
		{name: "later updates of a bound Sandbox are not binds", feed: func(r *recentBinds) {
			sb := readySandbox("a", "p", 7*time.Millisecond)
			r.observe(nil, sb)
			r.observe(sb, sb.DeepCopy())
			r.observe(sb, sb.DeepCopy())
		}, want: &arlv1alpha1.WarmPoolBinds{Count: 1, P50: ms(7), P99: ms(7)}},
		{name: "a bind after waiting is counted as waited", feed: func(r *recentBinds) {
			r.observe(nil, pendingSandbox("w", "p"))
			r.expectWaited("w")
			r.observe(pendingSandbox("w", "p"), readySandbox("w", "p", 3*time.Second))
			r.observe(nil, readySandbox("a", "p", 5*time.Millisecond))
		}, want: &arlv1alpha1.WarmPoolBinds{Count: 2, Waited: 1, P50: ms(5), P99: ms(3000)}},
		{name: "another pool's binds are its own", feed: func(r *recentBinds) {
			r.observe(nil, readySandbox("a", "other", time.Second))
		}, want: nil},
		{name: "a deleted pool forgets its binds", feed: func(r *recentBinds) {
			r.observe(nil, readySandbox("a", "p", time.Second))
			r.forget("ns/p")
		}, want: nil},
		{name: "the last 100 binds, percentiles by nearest rank", feed: func(r *recentBinds) {
			for i := 1; i <= 150; i++ { // 1..150 ms: the last 100 are 51..150
				r.observe(nil, readySandbox(fmt.Sprint(i), "p", time.Duration(i)*time.Millisecond))
			}
		}, want: &arlv1alpha1.WarmPoolBinds{Count: 100, P50: ms(100), P99: ms(149)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRecentBinds()
			c.feed(r)
			if diff := cmp.Diff(c.want, r.summary("ns/p")); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}

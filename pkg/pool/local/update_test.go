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

package local

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/arl-infra/arl/pkg/pool"
)

// TestClaimRelease: Claim and Release change a pod only from the state
// and version the caller read, never a failed or terminating one, and
// what they change is on disk (pod.json) before anyone hears of it.
func TestClaimRelease(t *testing.T) {
	type op int
	const (
		claim op = iota
		release
	)
	cases := []struct {
		name  string
		state pool.PodState
		// staleVersion makes the caller's copy one write behind.
		staleVersion bool
		failed       bool
		terminating  bool
		missing      bool
		op           op
		wantErr      func(error) bool
		wantState    pool.PodState
		wantSandbox  string
	}{
		{name: "claim an idle pod", state: pool.PodIdle, op: claim, wantState: pool.PodAllocated, wantSandbox: "sb-1"},
		{name: "release an allocated pod", state: pool.PodAllocated, op: release, wantState: pool.PodIdle},
		{name: "claim an allocated pod", state: pool.PodAllocated, op: claim, wantErr: isConflict},
		{name: "release an idle pod", state: pool.PodIdle, op: release, wantErr: isConflict},
		{name: "claim from a stale read", state: pool.PodIdle, staleVersion: true, op: claim, wantErr: isConflict},
		{name: "release from a stale read", state: pool.PodAllocated, staleVersion: true, op: release, wantErr: isConflict},
		{name: "claim a failed pod", state: pool.PodIdle, failed: true, op: claim, wantErr: isConflict},
		{name: "claim a terminating pod", state: pool.PodIdle, terminating: true, op: claim, wantErr: isConflict},
		{name: "claim a pod that is gone", state: pool.PodIdle, missing: true, op: claim, wantErr: apierrors.IsNotFound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newTestRuntime(t)
			rec := newRecorder()
			r.onChange = rec.onChange
			m := meta{Namespace: "team-a", Name: "py-abcde", UID: "u1", Version: 5, Pool: "py", State: c.state, Created: time.Now()}
			if c.state == pool.PodAllocated {
				m.Sandbox, m.ClaimedAt = "sb-0", time.Now()
			}
			dir := writePod(t, r, m)
			lp := &localPod{meta: m, dir: dir, failed: c.failed, terminating: c.terminating, exited: make(chan struct{})}
			if !c.missing {
				r.pods["team-a/py-abcde"] = lp
			}
			read := lp.snapshot(r.nodeName, r.socketPath(lp))
			if c.staleVersion {
				read.Version = "4"
			}

			var got *pool.Pod
			var err error
			if c.op == claim {
				got, err = r.Claim(context.Background(), read, "sb-1")
			} else {
				got, err = r.Release(context.Background(), read)
			}

			onDisk, loadErr := loadMeta(dir)
			if loadErr != nil {
				t.Fatal(loadErr)
			}
			if c.wantErr != nil {
				if !c.wantErr(err) {
					t.Fatalf("got %+v, %v; want a refusal", got, err)
				}
				if onDisk.Version != 5 || onDisk.State != c.state || lp.meta.Version != 5 {
					t.Errorf("a refused change was made: on disk %+v, in memory %+v", onDisk, lp.meta)
				}
				if len(rec.all()) != 0 {
					t.Errorf("a refused change was reported: %+v", rec.all())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.State != c.wantState || got.Sandbox != c.wantSandbox || got.Version != "6" {
				t.Errorf("got %+v, want state %s, sandbox %q, version 6", got, c.wantState, c.wantSandbox)
			}
			if c.wantState == pool.PodAllocated == got.ClaimedAt.IsZero() {
				t.Errorf("claimed at %v in state %s", got.ClaimedAt, got.State)
			}
			if onDisk.Version != 6 || onDisk.State != c.wantState || onDisk.Sandbox != c.wantSandbox {
				t.Errorf("pod.json holds %+v, not the change", onDisk)
			}
			if ch := rec.all(); len(ch) != 1 || ch[0].deleted || ch[0].pod.Version != "6" {
				t.Errorf("reported %+v, want the new version once", ch)
			}
		})
	}
}

func isConflict(err error) bool { return errors.Is(err, pool.ErrConflict) }

// TestClaimUnsavedIsNotMade: a change pod.json cannot take is not made in
// memory either, or a restart would undo a claim the pool acted on.
func TestClaimUnsavedIsNotMade(t *testing.T) {
	r := newTestRuntime(t)
	m := meta{Namespace: "team-a", Name: "py-abcde", Version: 1, Pool: "py", State: pool.PodIdle}
	dir := writePod(t, r, m)
	lp := &localPod{meta: m, dir: dir, exited: make(chan struct{})}
	r.pods["team-a/py-abcde"] = lp
	read := lp.snapshot(r.nodeName, r.socketPath(lp))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Claim(context.Background(), read, "sb-1"); err == nil {
		t.Fatal("claimed with nowhere to write pod.json")
	}
	if got, _ := r.Get("team-a", "py-abcde"); got.State != pool.PodIdle || got.Version != "1" {
		t.Errorf("unsaved claim made in memory: %+v", got)
	}
}

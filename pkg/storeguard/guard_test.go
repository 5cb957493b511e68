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

package storeguard

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// memStore is a fake store (an etcd whose loss, replacement and rewind a
// unit test cannot provoke otherwise; test/integration does it to a real
// etcd).
type memStore struct {
	mu        sync.Mutex
	clusterID string
	revision  int64
	marker    string
	down      bool
}

func (m *memStore) String() string { return "memStore" }

func (m *memStore) Observe(context.Context) (Observation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return Observation{}, errors.New("connection refused")
	}
	return Observation{ClusterID: m.clusterID, Revision: m.revision, Marker: m.marker}, nil
}

func (m *memStore) CreateMarker(_ context.Context, uid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.marker == "" {
		m.marker = uid
		m.revision++
	}
	return nil
}

func (m *memStore) set(f func(*memStore)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

func newGuard(t *testing.T, store *memStore, anchor Anchor, clk *clocktesting.FakeClock) *Guard {
	t.Helper()
	return New(Options{Probe: store, Anchor: anchor, Clock: clk, SaveInterval: 30 * time.Second})
}

func TestGuardFirstUseMarksAndRecords(t *testing.T) {
	store := &memStore{clusterID: "c1", revision: 40}
	anchor := FileAnchor{Path: filepath.Join(t.TempDir(), "store.json")}
	g := newGuard(t, store, anchor, clocktesting.NewFakeClock(time.Now()))
	if !errors.Is(g.Err(), ErrUnverified) {
		t.Fatalf("before any check: Err = %v, want ErrUnverified", g.Err())
	}
	if err := g.Verify(context.Background()); err != nil {
		t.Fatalf("Verify of a store used for the first time: %v", err)
	}
	select {
	case <-g.Verified():
	default:
		t.Fatal("Verified not closed after a successful check")
	}
	rec, err := anchor.Load(context.Background())
	if err != nil || rec == nil {
		t.Fatalf("anchor after first use: %v, %v", rec, err)
	}
	if rec.StoreUID == "" || rec.StoreUID != store.marker || rec.ClusterID != "c1" || rec.Revision != 41 {
		t.Fatalf("recorded %+v, store has marker %q at revision %d", rec, store.marker, store.revision)
	}

	// A second replica (or a restart) with the same store and record serves.
	g2 := newGuard(t, store, anchor, clocktesting.NewFakeClock(time.Now()))
	if err := g2.Verify(context.Background()); err != nil {
		t.Fatalf("restart on the recorded store: %v", err)
	}
}

func TestGuardRefusesAWipedStoreForGood(t *testing.T) {
	store := &memStore{clusterID: "c1", revision: 10}
	anchor := FileAnchor{Path: filepath.Join(t.TempDir(), "store.json")}
	g := newGuard(t, store, anchor, clocktesting.NewFakeClock(time.Now()))
	if err := g.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	marker := store.marker

	// etcd down: nothing is decided.
	store.set(func(m *memStore) { m.down = true })
	if err := g.Verify(context.Background()); err != nil {
		t.Fatalf("an unreachable etcd must not refuse the store: %v", err)
	}
	// etcd back, empty.
	store.set(func(m *memStore) { m.down, m.marker, m.revision = false, "", 1 })
	err := g.Verify(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no ARL marker") {
		t.Fatalf("Verify of a wiped store = %v, want a refusal", err)
	}
	if apiErr := g.APIError(); apiErr == nil || apiErr.Status().Code != 503 {
		t.Fatalf("APIError = %v, want 503", apiErr)
	}
	// The refusal latches: the original store coming back does not undo it
	// (the caches may already reflect the empty one).
	store.set(func(m *memStore) { m.marker, m.revision = marker, 500 })
	if err := g.Verify(context.Background()); err == nil {
		t.Fatal("a refusal must last until the server restarts")
	}
	// A restart refuses the empty store too: the record survived.
	store.set(func(m *memStore) { m.marker, m.revision = "", 1 })
	g2 := newGuard(t, store, anchor, clocktesting.NewFakeClock(time.Now()))
	if err := g2.Verify(context.Background()); err == nil {
		t.Fatal("a restarted server served the wiped store")
	}
}

func TestGuardRefusesARewind(t *testing.T) {
	store := &memStore{clusterID: "c1", revision: 10}
	anchor := FileAnchor{Path: filepath.Join(t.TempDir(), "store.json")}
	clk := clocktesting.NewFakeClock(time.Now())
	g := newGuard(t, store, anchor, clk)
	if err := g.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The revision moves on; the record follows once SaveInterval passed.
	store.set(func(m *memStore) { m.revision = 300 })
	if err := g.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec, _ := anchor.Load(context.Background()); rec.Revision != 11 {
		t.Fatalf("recorded revision %d before SaveInterval passed, want 11", rec.Revision)
	}
	clk.Step(31 * time.Second)
	if err := g.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rec, _ := anchor.Load(context.Background()); rec.Revision != 300 {
		t.Fatalf("recorded revision %d after SaveInterval, want 300", rec.Revision)
	}
	// An older copy of the same store (same cluster ID, same marker).
	store.set(func(m *memStore) { m.revision = 200 })
	g2 := newGuard(t, store, anchor, clk)
	if err := g2.Verify(context.Background()); err == nil || !strings.Contains(err.Error(), "went back") {
		t.Fatalf("restart on a rewound store: %v, want a refusal", err)
	}
	if err := g.Verify(context.Background()); err == nil {
		t.Fatal("running server on a rewound store: not refused")
	}
}

func TestGuardAdministratorClearsTheRecord(t *testing.T) {
	store := &memStore{clusterID: "c1", revision: 10}
	anchor := FileAnchor{Path: filepath.Join(t.TempDir(), "store.json")}
	if err := newGuard(t, store, anchor, clocktesting.NewFakeClock(time.Now())).Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Restored from a snapshot: new cluster ID, same marker.
	store.set(func(m *memStore) { m.clusterID = "c2" })
	if err := newGuard(t, store, anchor, clocktesting.NewFakeClock(time.Now())).Verify(context.Background()); err == nil {
		t.Fatal("a restored store was served without an administrator's decision")
	}
	// The administrator accepts it: removes the record, restarts.
	if err := removeFile(anchor.Path); err != nil {
		t.Fatal(err)
	}
	if err := newGuard(t, store, anchor, clocktesting.NewFakeClock(time.Now())).Verify(context.Background()); err != nil {
		t.Fatalf("after the record was cleared: %v", err)
	}
	if rec, _ := anchor.Load(context.Background()); rec.ClusterID != "c2" {
		t.Fatalf("record after adoption: %+v", rec)
	}
}

func TestGuardUnreachableAtStartStaysUnverified(t *testing.T) {
	store := &memStore{clusterID: "c1", down: true}
	anchor := FileAnchor{Path: filepath.Join(t.TempDir(), "store.json")}
	g := newGuard(t, store, anchor, clocktesting.NewFakeClock(time.Now()))
	if err := g.Verify(context.Background()); !errors.Is(err, ErrUnverified) {
		t.Fatalf("Verify with etcd down = %v, want ErrUnverified", err)
	}
	if apiErr := g.APIError(); apiErr == nil || apiErr.Status().Code != 503 {
		t.Fatalf("APIError = %v, want 503", apiErr)
	}
	if rec, _ := anchor.Load(context.Background()); rec != nil {
		t.Fatalf("recorded %+v without reading the store", rec)
	}
}

func TestFileAnchorNeverLowersOrReplaces(t *testing.T) {
	ctx := context.Background()
	anchor := FileAnchor{Path: filepath.Join(t.TempDir(), "sub", "store.json")}
	if err := anchor.Save(ctx, Record{StoreUID: "s1", ClusterID: "c1", Revision: 50}); err != nil {
		t.Fatal(err)
	}
	if err := anchor.Save(ctx, Record{StoreUID: "s1", ClusterID: "c1", Revision: 20}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := anchor.Load(ctx); rec.Revision != 50 {
		t.Fatalf("revision lowered to %d", rec.Revision)
	}
	if err := anchor.Save(ctx, Record{StoreUID: "s2", ClusterID: "c1", Revision: 60}); err == nil {
		t.Fatal("a record of another store was overwritten")
	}
}

func removeFile(path string) error { return os.Remove(path) }

func TestGuardRunReleasesTheProbeWhenItEnds(t *testing.T) {
	store := &memStore{clusterID: "c1", revision: 40}
	anchor := FileAnchor{Path: filepath.Join(t.TempDir(), "store.json")}
	closed := make(chan struct{})
	g := New(Options{Probe: store, CloseProbe: func() error { close(closed); return nil }, Anchor: anchor,
		Clock: clocktesting.NewFakeClock(time.Now())})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		g.Run(ctx)
		close(done)
	}()
	<-g.Verified()
	select {
	case <-closed:
		t.Fatal("the probe was released while the guard ran")
	default:
	}
	cancel()
	<-done
	select {
	case <-closed:
	default:
		t.Fatal("the probe was not released when Run returned")
	}
}

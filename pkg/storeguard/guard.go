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
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Defaults of Options.
const (
	DefaultInterval     = time.Second
	DefaultSaveInterval = 30 * time.Second
	// refusalLogInterval repeats the refusal in the log while it lasts.
	refusalLogInterval = 30 * time.Second
	checkTimeout       = 5 * time.Second
)

// Options configure a Guard.
type Options struct {
	Probe Probe
	// CloseProbe releases Probe when Run returns; nil: nothing to release.
	CloseProbe func() error
	Anchor     Anchor
	// Interval is the time between two checks.
	Interval time.Duration
	// SaveInterval is the least time between two writes of the highest
	// revision seen to the anchor.
	SaveInterval time.Duration
	Clock        clock.WithTicker
}

type state int

const (
	unverified state = iota
	serving
	refused
)

// Guard checks the store. Its zero value is not usable: see New.
type Guard struct {
	opts Options

	checkMu sync.Mutex // one check at a time

	mu        sync.RWMutex
	state     state
	refusal   string
	recorded  *Record
	loaded    bool
	highWater int64
	savedAt   time.Time
	loggedAt  time.Time
	verified  chan struct{}
	refusedCh chan struct{}
}

// New returns a guard; Run starts its checks.
func New(opts Options) *Guard {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.SaveInterval <= 0 {
		opts.SaveInterval = DefaultSaveInterval
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &Guard{opts: opts, verified: make(chan struct{}), refusedCh: make(chan struct{})}
}

// Run checks the store every Interval until ctx ends, then records the
// highest revision seen and releases the probe.
func (g *Guard) Run(ctx context.Context) {
	if g.opts.CloseProbe != nil {
		defer func() { _ = g.opts.CloseProbe() }()
	}
	ticker := g.opts.Clock.NewTicker(g.opts.Interval)
	defer ticker.Stop()
	for {
		g.check(ctx)
		select {
		case <-ctx.Done():
			g.saveHighWater(context.WithoutCancel(ctx), true)
			return
		case <-ticker.C():
		}
	}
}

// Verified is closed once the store has been found to be the recorded one.
func (g *Guard) Verified() <-chan struct{} { return g.verified }

// Refused is closed when the store is refused (for good).
func (g *Guard) Refused() <-chan struct{} { return g.refusedCh }

// ErrUnverified: the store has not been checked yet.
var ErrUnverified = errors.New("ARL's store (etcd) has not been verified yet")

// Err is nil while the store checks out; ErrUnverified before the first
// check did; the refusal once one failed (for good).
func (g *Guard) Err() error {
	g.mu.RLock()
	defer g.mu.RUnlock()
	switch g.state {
	case serving:
		return nil
	case refused:
		return errors.New(g.refusal)
	}
	return ErrUnverified
}

// Verify checks the store now: what anything about to act on the absence
// of an object (delete a pool's pods) asks first.
func (g *Guard) Verify(ctx context.Context) error {
	g.check(ctx)
	return g.Err()
}

// APIError is Err as the API answers it: 503, with Retry-After while the
// store is being verified.
func (g *Guard) APIError() *apierrors.StatusError {
	err := g.Err()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnverified):
		return apierrors.NewServiceUnavailable("arl-apiserver is verifying its store (etcd); try again")
	}
	return apierrors.NewServiceUnavailable("arl-apiserver refuses to serve: " + err.Error() + " (see its log)")
}

func (g *Guard) check(ctx context.Context) {
	g.checkMu.Lock()
	defer g.checkMu.Unlock()
	logger := klog.FromContext(ctx)
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()

	g.mu.RLock()
	st, loaded, recorded, highWater := g.state, g.loaded, g.recorded, g.highWater
	g.mu.RUnlock()
	if st == refused {
		g.logRefusal(logger)
		return
	}
	if !loaded {
		rec, err := g.opts.Anchor.Load(ctx)
		if err != nil {
			logger.Error(err, "Reading the store record failed; the store stays unverified", "anchor", g.opts.Anchor.String())
			return
		}
		g.mu.Lock()
		g.recorded, g.loaded = rec, true
		g.mu.Unlock()
		recorded = rec
	}
	obs, err := g.opts.Probe.Observe(ctx)
	if err != nil {
		if st == unverified {
			logger.Info("Cannot read ARL's etcd yet; the store stays unverified", "etcd", g.opts.Probe.String(), "err", err.Error())
		}
		return
	}
	v := decide(recorded, highWater, obs)
	if v.createMarker {
		uid := string(uuid.NewUUID())
		if err := g.opts.Probe.CreateMarker(ctx, uid); err != nil {
			logger.Error(err, "Marking the store failed", "etcd", g.opts.Probe.String())
			return
		}
		if obs, err = g.opts.Probe.Observe(ctx); err != nil {
			return
		}
		if v = decide(nil, highWater, obs); !v.adopt {
			return
		}
		logger.Info("Marked a store used for the first time", "store", obs.Marker, "etcd", g.opts.Probe.String(), "revision", obs.Revision)
	}
	if v.adopt {
		rec := Record{StoreUID: obs.Marker, ClusterID: obs.ClusterID, Revision: obs.Revision}
		if err := g.opts.Anchor.Save(ctx, rec); err != nil {
			logger.Error(err, "Recording the store failed; it stays unverified", "anchor", g.opts.Anchor.String())
			// Read the record again next time: another replica may have made it.
			g.mu.Lock()
			g.loaded = false
			g.mu.Unlock()
			return
		}
		logger.Info("Recorded the store this installation serves", "store", rec.StoreUID, "clusterID", rec.ClusterID,
			"revision", rec.Revision, "anchor", g.opts.Anchor.String())
		g.mu.Lock()
		g.recorded, g.savedAt = &rec, g.opts.Clock.Now()
		g.mu.Unlock()
	}
	if !v.ok {
		g.mu.Lock()
		g.state, g.refusal = refused, v.refusal
		close(g.refusedCh)
		g.mu.Unlock()
		g.logRefusal(logger)
		return
	}
	g.mu.Lock()
	g.highWater = max(g.highWater, obs.Revision)
	if g.state == unverified {
		g.state = serving
		close(g.verified)
		logger.Info("ARL's store is the one this installation recorded", "store", obs.Marker, "clusterID", obs.ClusterID,
			"revision", obs.Revision, "etcd", g.opts.Probe.String())
	}
	g.mu.Unlock()
	g.saveHighWater(ctx, false)
}

// saveHighWater records the highest revision seen, at most once per
// SaveInterval unless final.
func (g *Guard) saveHighWater(ctx context.Context, final bool) {
	g.mu.RLock()
	rec := g.recorded
	due := g.state == serving && rec != nil && g.highWater > rec.Revision &&
		(final || g.opts.Clock.Since(g.savedAt) >= g.opts.SaveInterval)
	var next Record
	if due {
		next = *rec
		next.Revision = g.highWater
	}
	g.mu.RUnlock()
	if !due {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	if err := g.opts.Anchor.Save(ctx, next); err != nil {
		klog.FromContext(ctx).Error(err, "Recording the store's revision failed", "anchor", g.opts.Anchor.String())
		return
	}
	g.mu.Lock()
	g.recorded, g.savedAt = &next, g.opts.Clock.Now()
	g.mu.Unlock()
}

func (g *Guard) logRefusal(logger klog.Logger) {
	g.mu.Lock()
	now := g.opts.Clock.Now()
	if !g.loggedAt.IsZero() && now.Sub(g.loggedAt) < refusalLogInterval {
		g.mu.Unlock()
		return
	}
	g.loggedAt = now
	refusal := g.refusal
	g.mu.Unlock()
	logger.Error(nil, "REFUSING TO SERVE: ARL's etcd is not the store this installation wrote; this replica is not ready, "+
		"answers 503 and its pool manager does nothing",
		"reason", refusal, "etcd", g.opts.Probe.String(), "anchor", g.opts.Anchor.String(), "toAccept", g.opts.Anchor.ClearHint())
}

// String describes the guard's state, for readyz.
func (g *Guard) String() string {
	if err := g.Err(); err != nil {
		return fmt.Sprintf("store not served: %v", err)
	}
	return "ok"
}

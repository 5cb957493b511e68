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

package claims

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
)

// Claim is one pod's claim: the value of its key.
type Claim struct {
	Namespace string    `json:"namespace"`
	Pod       string    `json:"pod"`
	UID       types.UID `json:"uid"`
	// Sandbox holds the pod; empty: the pod is being deleted and must not
	// be bound (the pool manager's hold before it deletes an idle pod).
	Sandbox   string    `json:"sandbox,omitempty"`
	ClaimedAt time.Time `json:"claimedAt"`

	// revision is the key's ModRevision.
	revision int64
}

// ErrTaken says the pod already has a claim.
var ErrTaken = errors.New("the pod is already claimed")

// ErrNotHolder says the pod's claim is another Sandbox's.
var ErrNotHolder = errors.New("the pod's claim is another Sandbox's")

// Ledger is the claims under one etcd prefix, kept in memory by a watch.
type Ledger struct {
	client *clientv3.Client
	prefix string // ends in "/"

	mu     sync.RWMutex
	claims map[types.UID]Claim
	synced atomic.Bool
}

// KeyPrefix is where the claims live: beside the resources' prefixes (no
// resource is named with a leading dot), so no list of a resource sees them.
func KeyPrefix(storagePrefix string) string {
	return path.Join("/", storagePrefix, ".arl-claims") + "/"
}

// NewLedger returns the ledger of the claims under KeyPrefix(storagePrefix).
// It owns client: Run closes it when it returns.
func NewLedger(client *clientv3.Client, storagePrefix string) *Ledger {
	return &Ledger{client: client, prefix: KeyPrefix(storagePrefix), claims: map[types.UID]Claim{}}
}

func (l *Ledger) key(uid types.UID) string { return l.prefix + string(uid) }

// Get returns the pod's claim as last seen.
func (l *Ledger) Get(uid types.UID) (Claim, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	c, ok := l.claims[uid]
	return c, ok
}

// List returns every claim as last seen.
func (l *Ledger) List() []Claim {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]Claim, 0, len(l.claims))
	for _, c := range l.claims {
		out = append(out, c)
	}
	return out
}

// HasSynced says the first list has been loaded.
func (l *Ledger) HasSynced() bool { return l.synced.Load() }

// Create writes c unless its pod has a claim (ErrTaken): the one write
// that makes a bind.
func (l *Ledger) Create(ctx context.Context, c Claim) error {
	_, err := l.createWith(ctx, c, "", nil)
	return err
}

// errKeyExists says the key to write with a claim exists already.
var errKeyExists = errors.New("the key exists")

// createWith writes c and, when key is not empty, value at key, in one
// transaction (a Sandbox and the claim of its pod), unless the pod has a
// claim (ErrTaken) or key exists (errKeyExists). It returns the revision
// of the write.
func (l *Ledger) createWith(ctx context.Context, c Claim, key string, value []byte) (int64, error) {
	claimValue, err := json.Marshal(c)
	if err != nil {
		return 0, err
	}
	claimKey := l.key(c.UID)
	ifs := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(claimKey), "=", 0)}
	puts := []clientv3.Op{clientv3.OpPut(claimKey, string(claimValue))}
	var orElse []clientv3.Op
	operation := "create"
	if key != "" {
		ifs = append(ifs, clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
		puts = append(puts, clientv3.OpPut(key, string(value)))
		orElse = append(orElse, clientv3.OpGet(key, clientv3.WithCountOnly()))
		operation = "create_with_sandbox"
	}
	claimWrites.WithLabelValues(operation).Inc()
	resp, err := l.client.Txn(ctx).If(ifs...).Then(puts...).Else(orElse...).Commit()
	if err != nil {
		return 0, err
	}
	if !resp.Succeeded {
		if key != "" && resp.Responses[0].GetResponseRange().Count > 0 {
			return 0, errKeyExists
		}
		return 0, ErrTaken
	}
	l.observe(c.UID, &c, resp.Header.Revision)
	return resp.Header.Revision, nil
}

// errClaimMoved says the claim to delete with a key changed since it was
// read; errKeyMoved that the key did.
var (
	errClaimMoved = errors.New("the claim changed")
	errKeyMoved   = errors.New("the key changed")
)

// deleteWith deletes key, at revision keyRevision, and c, as last seen,
// in one transaction (a Sandbox and the claim of its pod). It returns the
// revision of the delete, errKeyMoved when key is gone or changed, and
// errClaimMoved when only the claim did.
func (l *Ledger) deleteWith(ctx context.Context, c Claim, key string, keyRevision int64) (int64, error) {
	claimKey := l.key(c.UID)
	claimWrites.WithLabelValues("delete_with_sandbox").Inc()
	resp, err := l.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", keyRevision), clientv3.Compare(clientv3.ModRevision(claimKey), "=", c.revision)).
		Then(clientv3.OpDelete(key), clientv3.OpDelete(claimKey)).
		Else(clientv3.OpGet(key, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return 0, err
	}
	if !resp.Succeeded {
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) == 0 || kvs[0].ModRevision != keyRevision {
			return 0, errKeyMoved
		}
		return 0, errClaimMoved
	}
	l.observe(c.UID, nil, resp.Header.Revision)
	return resp.Header.Revision, nil
}

// Delete removes the pod's claim if sandbox holds it (empty: the deletion
// hold); a pod with no claim is not an error.
func (l *Ledger) Delete(ctx context.Context, uid types.UID, sandbox string) error {
	key := l.key(uid)
	for {
		resp, err := l.client.Get(ctx, key)
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			l.observe(uid, nil, resp.Header.Revision)
			return nil
		}
		kv := resp.Kvs[0]
		var c Claim
		if err := json.Unmarshal(kv.Value, &c); err == nil && c.Sandbox != sandbox {
			return fmt.Errorf("%w: %q, not %q", ErrNotHolder, c.Sandbox, sandbox)
		}
		claimWrites.WithLabelValues("delete").Inc()
		txn, err := l.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)).
			Then(clientv3.OpDelete(key)).
			Commit()
		if err != nil {
			return err
		}
		if txn.Succeeded {
			l.observe(uid, nil, txn.Header.Revision)
			return nil
		}
		// Changed between the read and the delete: read it again.
	}
}

// Forget removes a claim whatever it holds: for a pod that no longer
// exists.
func (l *Ledger) Forget(ctx context.Context, uid types.UID) error {
	claimWrites.WithLabelValues("forget").Inc()
	resp, err := l.client.Delete(ctx, l.key(uid))
	if err != nil {
		return err
	}
	l.observe(uid, nil, resp.Header.Revision)
	return nil
}

// observe records a claim (nil: none) seen at revision, unless the ledger
// has seen the key at a later one (a watch event older than this replica's
// own write).
func (l *Ledger) observe(uid types.UID, c *Claim, revision int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	old, had := l.claims[uid]
	if had && old.revision > revision {
		return false
	}
	if c == nil {
		delete(l.claims, uid)
		return had
	}
	c.revision = revision
	l.claims[uid] = *c
	return !had || old.Sandbox != c.Sandbox
}

// Run keeps the ledger in step with etcd until ctx ends: a list, then a
// watch from its revision, again after any error. onChange is told of
// every pod whose claim changed.
func (l *Ledger) Run(ctx context.Context, onChange func(Claim)) {
	defer func() { _ = l.client.Close() }()
	logger := klog.FromContext(ctx).WithValues("prefix", l.prefix)
	backoff := wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Jitter: 0.2, Steps: 8, Cap: 10 * time.Second}
	for ctx.Err() == nil {
		err := l.listAndWatch(ctx, onChange)
		if ctx.Err() != nil {
			return
		}
		logger.Info("Watching pod claims failed; listing them again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff.Step()):
		}
	}
}

func (l *Ledger) listAndWatch(ctx context.Context, onChange func(Claim)) error {
	resp, err := l.client.Get(ctx, l.prefix, clientv3.WithPrefix())
	if err != nil {
		return err
	}
	seen := map[types.UID]bool{}
	for _, kv := range resp.Kvs {
		c, err := l.decode(kv)
		if err != nil {
			klog.FromContext(ctx).Error(err, "Ignoring an unreadable pod claim", "key", string(kv.Key))
			continue
		}
		seen[c.UID] = true
		if l.observe(c.UID, &c, kv.ModRevision) {
			onChange(c)
		}
	}
	// Claims gone while no watch ran.
	for _, c := range l.List() {
		if !seen[c.UID] && l.observe(c.UID, nil, resp.Header.Revision) {
			onChange(Claim{Namespace: c.Namespace, Pod: c.Pod, UID: c.UID})
		}
	}
	l.synced.Store(true)

	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for wr := range l.client.Watch(wctx, l.prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1), clientv3.WithPrevKV()) {
		if err := wr.Err(); err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				return fmt.Errorf("watch compacted at %d: %w", wr.CompactRevision, err)
			}
			return err
		}
		for _, ev := range wr.Events {
			l.apply(ctx, ev, onChange)
		}
	}
	return errors.New("the watch ended")
}

func (l *Ledger) apply(ctx context.Context, ev *clientv3.Event, onChange func(Claim)) {
	uid := types.UID(strings.TrimPrefix(string(ev.Kv.Key), l.prefix))
	if ev.Type == mvccpb.DELETE {
		c := Claim{UID: uid}
		if ev.PrevKv != nil {
			if prev, err := l.decode(ev.PrevKv); err == nil {
				c = prev
			}
		}
		if l.observe(uid, nil, ev.Kv.ModRevision) {
			onChange(Claim{Namespace: c.Namespace, Pod: c.Pod, UID: uid})
		}
		return
	}
	c, err := l.decode(ev.Kv)
	if err != nil {
		klog.FromContext(ctx).Error(err, "Ignoring an unreadable pod claim", "key", string(ev.Kv.Key))
		return
	}
	if l.observe(uid, &c, ev.Kv.ModRevision) {
		onChange(c)
	}
}

func (l *Ledger) decode(kv *mvccpb.KeyValue) (Claim, error) {
	var c Claim
	if err := json.Unmarshal(kv.Value, &c); err != nil {
		return Claim{}, err
	}
	c.UID = types.UID(strings.TrimPrefix(string(kv.Key), l.prefix))
	c.revision = kv.ModRevision
	return c, nil
}

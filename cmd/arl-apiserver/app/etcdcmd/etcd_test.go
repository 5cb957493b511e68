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

package etcdcmd

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/arl-infra/arl/pkg/standalone"
)

// TestSnapshotAndDefrag runs both against a real (embedded) etcd.
func TestSnapshotAndDefrag(t *testing.T) {
	u, err := standalone.FreeLocalURL()
	if err != nil {
		t.Fatal(err)
	}
	etcd, err := standalone.StartEtcd(context.Background(), filepath.Join(t.TempDir(), "etcd"), u)
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	f := clientFlags{endpoints: []string{u.String()}, dialTimeout: 5 * time.Second}
	c, err := f.client()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if _, err := c.Put(ctx, "/registry/arl.infra.io/x", string(make([]byte, 4096))); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var paths []string
	for i := 0; i < 4; i++ {
		path, err := saveSnapshot(ctx, c, dir, start.Add(time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Size() < 4096 {
			t.Fatalf("snapshot %s: %v %v", path, st, err)
		}
		paths = append(paths, path)
	}
	removed, err := prune(dir, 2)
	if err != nil || len(removed) != 2 || removed[0] != paths[0] || removed[1] != paths[1] {
		t.Fatalf("prune kept the wrong ones: removed %v (%v)", removed, err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 2 {
		t.Fatalf("left %v, want the 2 newest and nothing partial", left)
	}

	// A corrupted snapshot fails its hash check.
	data, _ := os.ReadFile(paths[3])
	data[100] ^= 0xff
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	fh, _ := os.Open(bad)
	defer fh.Close()
	if err := checkHash(fh, int64(len(data))); err == nil {
		t.Fatal("a corrupted snapshot passed its hash check")
	}

	// Defragmentation through the command: compacted history is freed.
	resp, err := c.Get(ctx, "/registry/arl.infra.io/x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	// The pages compaction frees count as free only once a later write
	// transaction of etcd's backend releases them (bbolt frees pending pages
	// when the next one begins): write, and wait for that, so the command
	// finds the 10%.
	var before *clientv3.StatusResponse
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		if _, err := c.Put(ctx, "/registry/arl.infra.io/poke", "x"); err != nil {
			return false, err
		}
		before, err = c.Status(ctx, u.String())
		return err == nil && 1-float64(before.DbSizeInUse)/float64(max(before.DbSize, 1)) >= 0.1, err
	})
	if err != nil {
		t.Fatalf("compacted history never counted as free: %v (status %+v)", err, before)
	}
	cmd := newDefragCommand()
	cmd.SetArgs([]string{"--endpoints", u.String(), "--min-free", "0.1"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	after, err := c.Status(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	if after.DbSize >= before.DbSize {
		t.Fatalf("database %d bytes before defragmentation, %d after", before.DbSize, after.DbSize)
	}
}

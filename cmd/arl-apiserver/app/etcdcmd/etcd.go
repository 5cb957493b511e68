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

// Package etcdcmd is `arl-apiserver etcd`: the maintenance of ARL's etcd
// that the install schedules (CronJobs): snapshots kept on a volume, and
// defragmentation one member at a time.
package etcdcmd

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"k8s.io/klog/v2"
)

// clientFlags reach etcd.
type clientFlags struct {
	endpoints              []string
	cert, key, ca          string
	dialTimeout, opTimeout time.Duration
}

func (f *clientFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringSliceVar(&f.endpoints, "endpoints", []string{"https://arl-etcd.arl-system.svc:2379"}, "etcd client URLs")
	fs.StringVar(&f.cert, "cert", "", "client certificate (PEM)")
	fs.StringVar(&f.key, "key", "", "client key (PEM)")
	fs.StringVar(&f.ca, "cacert", "", "CA bundle that signs etcd's serving certificate (PEM)")
	fs.DurationVar(&f.dialTimeout, "dial-timeout", 10*time.Second, "how long to wait for a connection")
	fs.DurationVar(&f.opTimeout, "timeout", 10*time.Minute, "how long the whole operation may take")
}

func (f *clientFlags) client() (*clientv3.Client, error) {
	cfg := clientv3.Config{Endpoints: f.endpoints, DialTimeout: f.dialTimeout, Logger: zap.NewNop()}
	if f.cert != "" || f.key != "" || f.ca != "" {
		tlsConfig, err := transport.TLSInfo{CertFile: f.cert, KeyFile: f.key, TrustedCAFile: f.ca}.ClientConfig()
		if err != nil {
			return nil, err
		}
		cfg.TLS = tlsConfig
	}
	return clientv3.New(cfg)
}

// NewCommand returns `arl-apiserver etcd`.
func NewCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "etcd",
		Short: "Maintain ARL's etcd: snapshots and defragmentation",
	}
	cmd.AddCommand(newSnapshotCommand(), newDefragCommand())
	return cmd
}

func newSnapshotCommand() *cobra.Command {
	var f clientFlags
	var dir string
	var keep int
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Save a snapshot of etcd into --dir (as etcdctl snapshot save does) and keep the newest --keep",
		Long: "Saves arl-etcd-<UTC time>.db in --dir: written to a temporary file, checked against the hash etcd " +
			"appends, synced, then renamed, so a file with that name is always whole. Older snapshots beyond --keep " +
			"are removed. Restore one with etcdutl snapshot restore (docs/operations.md).",
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.opTimeout)
			defer cancel()
			c, err := f.client()
			if err != nil {
				return err
			}
			defer c.Close()
			path, err := saveSnapshot(ctx, c, dir, time.Now().UTC())
			if err != nil {
				return err
			}
			klog.InfoS("Saved a snapshot of ARL's etcd", "path", path)
			removed, err := prune(dir, keep)
			for _, r := range removed {
				klog.InfoS("Removed an old snapshot", "path", r)
			}
			return err
		},
	}
	f.add(cmd)
	cmd.Flags().StringVar(&dir, "dir", "/var/backups/arl-etcd", "directory of the snapshots")
	cmd.Flags().IntVar(&keep, "keep", 14, "how many snapshots to keep (the newest)")
	return cmd
}

const snapshotPrefix, snapshotSuffix = "arl-etcd-", ".db"

// saveSnapshot streams a snapshot into dir and checks its trailing hash.
func saveSnapshot(ctx context.Context, c *clientv3.Client, dir string, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	rc, err := c.Snapshot(ctx)
	if err != nil {
		return "", fmt.Errorf("requesting a snapshot: %w", err)
	}
	defer rc.Close()
	path := filepath.Join(dir, snapshotPrefix+now.Format("20060102T150405Z")+snapshotSuffix)
	tmp, err := os.CreateTemp(dir, ".partial-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	n, err := io.Copy(tmp, rc)
	if err == nil {
		err = checkHash(tmp, n)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("saving a snapshot: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return path, nil
}

// checkHash verifies the sha256 etcd appends to a snapshot's bolt data.
func checkHash(f *os.File, size int64) error {
	if size < sha256.Size {
		return errors.New("the snapshot is shorter than its hash")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	h := sha256.New()
	if _, err := io.CopyN(h, f, size-sha256.Size); err != nil {
		return err
	}
	want := make([]byte, sha256.Size)
	if _, err := io.ReadFull(f, want); err != nil {
		return err
	}
	if got := h.Sum(nil); string(got) != string(want) {
		return errors.New("the snapshot does not match the hash etcd sent")
	}
	return nil
}

// prune removes the oldest snapshots beyond keep.
func prune(dir string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var snaps []string
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, snapshotPrefix) && strings.HasSuffix(name, snapshotSuffix) {
			snaps = append(snaps, name)
		}
	}
	sort.Strings(snaps) // the UTC time in the name sorts them
	var removed []string
	for len(snaps) > max(keep, 1) {
		path := filepath.Join(dir, snaps[0])
		if err := os.Remove(path); err != nil {
			return removed, err
		}
		removed, snaps = append(removed, path), snaps[1:]
	}
	return removed, nil
}

func newDefragCommand() *cobra.Command {
	var f clientFlags
	var minFree float64
	cmd := &cobra.Command{
		Use:   "defrag",
		Short: "Defragment every etcd member, one at a time, whose database is mostly free space",
		Long: "Asks each member (the cluster's member list, reached through --endpoints) for its database size and " +
			"the part in use; defragments, one member at a time, those where the free part is at least --min-free of " +
			"the file. A member being defragmented does not answer for that while (milliseconds for ARL's sizes); " +
			"the others do.",
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.opTimeout)
			defer cancel()
			c, err := f.client()
			if err != nil {
				return err
			}
			defer c.Close()
			members, err := c.MemberList(ctx)
			if err != nil {
				return err
			}
			var errs []error
			for _, m := range members.Members {
				// A member is asked at its first client URL.
				if len(m.ClientURLs) == 0 {
					continue
				}
				url := m.ClientURLs[0]
				status, err := c.Status(ctx, url)
				if err != nil {
					errs = append(errs, fmt.Errorf("member %s: %w", m.Name, err))
					continue
				}
				free := 1 - float64(status.DbSizeInUse)/float64(max(status.DbSize, 1))
				if free < minFree {
					klog.InfoS("Not defragmenting a member", "member", m.Name, "dbSize", status.DbSize, "inUse", status.DbSizeInUse)
					continue
				}
				start := time.Now()
				if _, err := c.Defragment(ctx, url); err != nil {
					errs = append(errs, fmt.Errorf("defragmenting member %s: %w", m.Name, err))
					continue
				}
				after, _ := c.Status(ctx, url)
				klog.InfoS("Defragmented a member", "member", m.Name, "took", time.Since(start), "dbSizeBefore", status.DbSize,
					"dbSizeAfter", sizeOf(after))
			}
			return errors.Join(errs...)
		},
	}
	f.add(cmd)
	cmd.Flags().Float64Var(&minFree, "min-free", 0.5, "defragment a member when at least this share of its database file is free")
	return cmd
}

func sizeOf(s *clientv3.StatusResponse) int64 {
	if s == nil {
		return 0
	}
	return s.DbSize
}

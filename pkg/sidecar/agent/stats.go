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

package agent

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// statsWalkEntries bounds the workspace walk of one GetStats: a command
// can make millions of files, and a metrics read must stay cheap.
const statsWalkEntries = 100_000

// errWalkBound stops the walk at statsWalkEntries.
var errWalkBound = errors.New("walk bound reached")

// GetStats implements AgentService: processes alive below the agent,
// the workspace's apparent size, the agent's uptime.
func (a *Agent) GetStats(ctx context.Context, _ *agentv1.StatsRequest) (*agentv1.SandboxStats, error) {
	procs, err := procutil.ListProcs()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "listing processes: %v", err)
	}
	alive := int32(0)
	for _, p := range procutil.Descendants(procs, os.Getpid()) {
		if p.State != 'Z' {
			alive++
		}
	}
	stats := &agentv1.SandboxStats{Processes: alive, UptimeSeconds: int64(time.Since(a.started).Seconds())}
	err = filepath.WalkDir(a.cfg.Workspace, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file that vanished, a directory it may not read: skipped
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if stats.WorkspaceEntries == statsWalkEntries {
			return errWalkBound
		}
		stats.WorkspaceEntries++
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				stats.WorkspaceBytes += info.Size()
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errWalkBound):
		stats.WorkspaceWalkTruncated = true
	case err != nil:
		return nil, status.FromContextError(err).Err()
	}
	return stats, nil
}

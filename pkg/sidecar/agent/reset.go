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
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// Reset kills every process the agent started and empties the workspace;
// see agent.proto.
func (a *Agent) Reset(ctx context.Context, req *agentv1.ResetRequest) (*agentv1.ResetResponse, error) {
	if sandbox := req.GetReleaseSandbox(); sandbox != "" {
		if sandboxOf(ctx) == sandbox {
			// It would wait for itself.
			return nil, status.Errorf(codes.InvalidArgument, "a call for Sandbox %s cannot release it", sandbox)
		}
		if err := a.fence.release(ctx, sandbox); err != nil {
			return nil, status.Errorf(codes.DeadlineExceeded, "waiting for the calls of Sandbox %s to end: %v", sandbox, err)
		}
	}
	killed, err := a.KillAll(ctx, 0)
	resp := &agentv1.ResetResponse{Killed: killed}
	if err != nil {
		return nil, status.Errorf(codes.Internal, "killed %d processes, then: %v", len(killed), err)
	}
	a.procs.forget()
	if !req.GetPreserveFiles() {
		removed, err := emptyDir(a.cfg.Workspace)
		resp.Removed = removed
		if err != nil {
			return nil, status.Errorf(codes.Internal, "killed %d processes and removed %d entries of %s, then: %v", len(killed), len(removed), a.cfg.Workspace, err)
		}
	}
	klog.InfoS("Reset", "killed", len(killed), "removed", len(resp.Removed), "preserveFiles", req.GetPreserveFiles(), "releasedSandbox", req.GetReleaseSandbox())
	return resp, nil
}

// KillAll ends every process the agent started, descendants included,
// except the main command and what still descends from it: each process
// group the agent created, plus every descendant of the agent (orphans that
// left their group, e.g. with setsid, are reparented to the agent when it
// reaps orphans). With a grace period it sends SIGTERM first and SIGKILL
// to what is left after it; with none, SIGKILL at once. It returns once the
// processes are gone (reaped), or fails when ctx ends first.
func (a *Agent) KillAll(ctx context.Context, grace time.Duration) ([]*agentv1.KilledProcess, error) {
	self := os.Getpid()
	seen := map[int]*agentv1.KilledProcess{}
	sig := unix.SIGKILL
	var graceEnd time.Time
	if grace > 0 {
		sig = unix.SIGTERM
		graceEnd = time.Now().Add(grace)
	}
	termed := map[int]bool{} // pids, and -pgid for groups, sent SIGTERM
	poll := time.Millisecond
	for {
		targets, groups, err := a.killTargets(self)
		if err != nil {
			return nil, err
		}
		for _, t := range targets {
			if _, ok := seen[t.Pid]; !ok && t.State != 'Z' {
				seen[t.Pid] = &agentv1.KilledProcess{Pid: int32(t.Pid), Command: procutil.Cmdline(t.Pid)}
			}
		}
		live, waitFor := 0, 0
		for _, t := range targets {
			switch {
			case t.State != 'Z':
				live++
				waitFor++
			case t.descendant:
				// Reaped by us or by a descendant about to die: "gone"
				// must mean gone from /proc. A zombie outside our tree
				// is its init's to reap.
				waitFor++
			}
		}
		if waitFor == 0 {
			break
		}
		if live > 0 {
			if sig == unix.SIGTERM && time.Now().After(graceEnd) {
				sig = unix.SIGKILL
			}
			// The groups first: kill(-pgid) reaches every member at once,
			// a forking member included. SIGTERM goes once to each: some
			// programs take a second one as "quit now, skip the cleanup".
			for _, g := range groups {
				if sig == unix.SIGTERM {
					if termed[-g] {
						continue
					}
					termed[-g] = true
					_ = procutil.SignalGroup(g, unix.SIGTERM)
					_ = procutil.SignalGroup(g, unix.SIGCONT)
					continue
				}
				_ = procutil.SignalGroup(g, sig)
			}
			for _, t := range targets {
				// A member of a signalled group has had its SIGTERM.
				if t.State == 'Z' || (sig == unix.SIGTERM && (termed[t.Pid] || termed[-t.Pgid])) {
					continue
				}
				termed[t.Pid] = true
				_ = unix.Kill(t.Pid, sig)
			}
		}
		// Zombies are left for their parent or the reaper.
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%d processes still there: %w", len(targets), ctx.Err())
		case <-time.After(poll):
		}
		if poll < 50*time.Millisecond {
			poll *= 2
		}
	}
	// The commands' own waiters record their exit.
	for _, p := range a.procs.runningProcesses() {
		select {
		case <-p.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("process %d not reaped: %w", p.pid, ctx.Err())
		}
	}
	out := make([]*agentv1.KilledProcess, 0, len(seen))
	for _, k := range seen {
		out = append(out, k)
	}
	slices.SortFunc(out, func(x, y *agentv1.KilledProcess) int { return int(x.Pid - y.Pid) })
	return out, nil
}

type killTarget struct {
	procutil.Proc
	descendant bool
}

// killTargets lists the processes KillAll must end (zombies included, so that
// it waits for their reaping) and the groups to signal.
func (a *Agent) killTargets(self int) ([]killTarget, []int, error) {
	procs, err := procutil.ListProcs()
	if err != nil {
		return nil, nil, err
	}
	mainPid := a.mainPgid()
	spared := map[int]bool{self: true}
	if mainPid > 0 {
		spared[mainPid] = true
		for _, p := range procutil.Descendants(procs, mainPid) {
			spared[p.Pid] = true
		}
	}
	groups := map[int]bool{}
	for _, g := range a.procs.groupIDs() {
		if g != mainPid && g != self {
			groups[g] = true
		}
	}
	var targets []killTarget
	inTargets := map[int]bool{}
	for _, p := range procutil.Descendants(procs, self) {
		if !spared[p.Pid] && p.Pgid != mainPid {
			targets = append(targets, killTarget{p, true})
			inTargets[p.Pid] = true
		}
	}
	for _, p := range procs {
		if groups[p.Pgid] && !spared[p.Pid] && !inTargets[p.Pid] {
			targets = append(targets, killTarget{p, false})
		}
	}
	groupList := make([]int, 0, len(groups))
	for g := range groups {
		groupList = append(groupList, g)
	}
	return targets, groupList, nil
}

// emptyDir removes the contents of dir, not dir itself: it is usually a
// volume's mount point, which cannot be removed.
func emptyDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	var failed []string
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		err := os.RemoveAll(p)
		if err != nil && errors.Is(err, os.ErrPermission) {
			// Read-only directories (e.g. Go's module cache) are emptied
			// once made writable.
			makeWritable(p)
			err = os.RemoveAll(p)
		}
		if err != nil {
			failed = append(failed, err.Error())
			continue
		}
		removed = append(removed, e.Name())
	}
	if len(failed) > 0 {
		return removed, errors.New("could not remove: " + strings.Join(failed, "; "))
	}
	return removed, nil
}

func makeWritable(root string) {
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o700)
		}
		return nil
	})
}

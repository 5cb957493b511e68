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

package procutil

import (
	"context"
	"errors"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// SignalGroup sends sig to every process of group pgid. A group that no
// longer exists is not an error.
func SignalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return unix.EINVAL // never kill(-1) or our own group by accident
	}
	err := unix.Kill(-pgid, sig)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	return err
}

// GroupExists reports whether any process (zombies included) is in group pgid.
func GroupExists(pgid int) bool {
	if pgid <= 1 {
		return false
	}
	err := unix.Kill(-pgid, 0)
	return err == nil || errors.Is(err, unix.EPERM)
}

// GroupAlive reports whether group pgid has a member that is not a zombie.
// Zombies are dead: waiting for their reaping (by a parent, or by an init
// that may be slow to do it) would only delay the caller.
func GroupAlive(pgid int) bool {
	if !GroupExists(pgid) {
		return false
	}
	procs, err := ListProcs()
	if err != nil {
		return true
	}
	for _, p := range procs {
		if p.Pgid == pgid && p.State != 'Z' {
			return true
		}
	}
	return false
}

// TerminateGroup sends SIGTERM to the group, waits until the group is gone or
// grace has passed (or ctx ends), then sends SIGKILL to whatever is left
// (that may be nothing).
// SIGKILL is final, so it returns without waiting for the reaping.
func TerminateGroup(ctx context.Context, pgid int, grace time.Duration) {
	_ = SignalGroup(pgid, unix.SIGTERM)
	// SIGTERM stops nothing that is stopped; let stopped members handle it.
	_ = SignalGroup(pgid, unix.SIGCONT)
	if grace > 0 {
		deadline := time.NewTimer(grace)
		defer deadline.Stop()
		poll := 5 * time.Millisecond
		for GroupAlive(pgid) {
			select {
			case <-ctx.Done():
				_ = SignalGroup(pgid, unix.SIGKILL)
				return
			case <-deadline.C:
				_ = SignalGroup(pgid, unix.SIGKILL)
				return
			case <-time.After(poll):
			}
			if poll < 100*time.Millisecond {
				poll *= 2
			}
		}
	}
	_ = SignalGroup(pgid, unix.SIGKILL)
}

// WaitGroupGone waits until group pgid has no process left (its members
// reaped) or ctx ends.
func WaitGroupGone(ctx context.Context, pgid int) bool {
	poll := time.Millisecond
	for GroupExists(pgid) {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(poll):
		}
		if poll < 50*time.Millisecond {
			poll *= 2
		}
	}
	return true
}

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

// Package procutil starts processes and collects their exit statuses through
// one central reaper, so that the agent can run as PID 1 (or as a child
// subreaper) and reap orphans without stealing the exit status of the
// processes it waits on itself.
package procutil

import (
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"
)

// Exit is what the reaper learned about a process that ended.
type Exit struct {
	Status unix.WaitStatus
	Time   time.Time
}

// Code is the exit code as a shell reports it: the exit status, or 128+N
// when the process was killed by signal N.
func (e Exit) Code() int32 {
	if e.Status.Signaled() {
		return 128 + int32(e.Status.Signal())
	}
	return int32(e.Status.ExitStatus())
}

// SignalName is the name of the signal that killed the process, or "".
func (e Exit) SignalName() string {
	if e.Status.Signaled() {
		return SignalName(e.Status.Signal())
	}
	return ""
}

// Reaper owns wait4 for this process. Every child must be started through
// StartProcess; nothing else in the process may wait for children while a
// reaper that reaps orphans runs (os/exec's Wait would race it).
type Reaper struct {
	reapOrphans bool

	// spawnMu is held for reading while a child is forked and registered and
	// for writing while reaping, so that no child can be reaped between its
	// fork and its registration (the reaper would not know whom to tell).
	spawnMu sync.RWMutex

	mu      sync.Mutex
	waiters map[int]chan Exit

	sigs    chan os.Signal
	stop    chan struct{}
	stopped chan struct{}
}

// NewReaper returns a reaper. With reapOrphans it marks this process a child
// subreaper (orphaned descendants are reparented to it instead of to the
// namespace's init) and reaps every child, dispatching statuses by pid; use it
// only in a process that starts children through this reaper alone. Without
// it, only the registered children are waited for.
func NewReaper(reapOrphans bool) *Reaper {
	return &Reaper{
		reapOrphans: reapOrphans,
		waiters:     map[int]chan Exit{},
		sigs:        make(chan os.Signal, 1),
		stop:        make(chan struct{}),
		stopped:     make(chan struct{}),
	}
}

// Start begins reaping. It must be called before the first StartProcess.
func (r *Reaper) Start() error {
	if r.reapOrphans && os.Getpid() != 1 {
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return err
		}
	}
	signal.Notify(r.sigs, syscall.SIGCHLD)
	go r.loop()
	return nil
}

// Stop ends reaping; children still running are no longer waited for.
func (r *Reaper) Stop() {
	signal.Stop(r.sigs)
	close(r.stop)
	<-r.stopped
}

func (r *Reaper) loop() {
	defer close(r.stopped)
	// A child may have ended before Notify took effect.
	r.reap()
	// The periodic pass is a safety net only: SIGCHLD is coalesced by the
	// kernel, but each delivery makes us drain everything that is ready.
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-r.sigs:
		case <-tick.C:
		}
		r.reap()
	}
}

func (r *Reaper) reap() {
	r.spawnMu.Lock()
	defer r.spawnMu.Unlock()
	if r.reapOrphans {
		for {
			var ws unix.WaitStatus
			pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || pid <= 0 {
				return
			}
			r.dispatch(pid, ws)
		}
	}
	r.mu.Lock()
	pids := make([]int, 0, len(r.waiters))
	for pid := range r.waiters {
		pids = append(pids, pid)
	}
	r.mu.Unlock()
	for _, pid := range pids {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		for errors.Is(err, unix.EINTR) {
			got, err = unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		}
		if err == nil && got == pid {
			r.dispatch(pid, ws)
		}
	}
}

func (r *Reaper) dispatch(pid int, ws unix.WaitStatus) {
	r.mu.Lock()
	ch, ok := r.waiters[pid]
	delete(r.waiters, pid)
	r.mu.Unlock()
	if !ok {
		klog.V(4).InfoS("Reaped orphan", "pid", pid, "status", int(ws))
		return
	}
	ch <- Exit{Status: ws, Time: time.Now()}
}

// StartProcess forks and execs argv0 and registers the child; the returned
// channel receives its exit exactly once.
func (r *Reaper) StartProcess(argv0 string, argv []string, attr *syscall.ProcAttr) (int, <-chan Exit, error) {
	ch := make(chan Exit, 1)
	r.spawnMu.RLock()
	defer r.spawnMu.RUnlock()
	pid, err := syscall.ForkExec(argv0, argv, attr)
	if err != nil {
		return 0, nil, err
	}
	r.mu.Lock()
	r.waiters[pid] = ch
	r.mu.Unlock()
	return pid, ch, nil
}

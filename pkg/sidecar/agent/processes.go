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
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// maxExited bounds how many exited background processes are remembered.
const maxExited = 256

// process is a command the agent started for a request. Every such process
// leads its own process group (pgid == pid).
type process struct {
	pid        int
	tag        string
	argv       []string
	background bool
	start      time.Time
	log        *processLog // background only

	mu       sync.Mutex
	exited   bool
	exit     procutil.Exit
	timedOut bool
	done     chan struct{}
}

func newProcess(tag string, argv []string, background bool) *process {
	return &process{tag: tag, argv: argv, background: background, done: make(chan struct{})}
}

func (p *process) info(tailBytes int) *agentv1.ProcessInfo {
	p.mu.Lock()
	defer p.mu.Unlock()
	pi := &agentv1.ProcessInfo{
		Pid:            int32(p.pid),
		Tag:            p.tag,
		Command:        p.argv,
		State:          agentv1.ProcessInfo_RUNNING,
		Background:     p.background,
		StartTimeNanos: p.start.UnixNano(),
	}
	if p.exited {
		pi.State = agentv1.ProcessInfo_EXITED
		pi.ExitCode = p.exit.Code()
		pi.Signal = p.exit.SignalName()
		pi.TimedOut = p.timedOut
		pi.EndTimeNanos = p.exit.Time.UnixNano()
	}
	if p.log != nil && tailBytes > 0 {
		pi.LogTail, pi.LogTruncated = p.log.lastBytes(tailBytes)
	}
	return pi
}

// processTable tracks the processes started for requests, and the process
// groups they created that may still hold survivors (a command's background
// grandchildren stay in its group after it exits).
type processTable struct {
	mu      sync.Mutex
	running map[int]*process
	tags    map[string]*process // running (or starting) processes by tag
	exited  []*process          // background processes, oldest first
	groups  map[int]struct{}
}

func newProcessTable() *processTable {
	return &processTable{running: map[int]*process{}, tags: map[string]*process{}, groups: map[int]struct{}{}}
}

// reserve claims p's tag before p is started.
func (t *processTable) reserve(p *process) error {
	if p.tag == "" {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if other, ok := t.tags[p.tag]; ok {
		return status.Errorf(codes.AlreadyExists, "tag %q is in use by running process %d", p.tag, other.pid)
	}
	t.tags[p.tag] = p
	return nil
}

// release gives up the tag of a process that could not be started.
func (t *processTable) release(p *process) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tags[p.tag] == p {
		delete(t.tags, p.tag)
	}
}

func (t *processTable) started(p *process, pid int, start time.Time) {
	p.mu.Lock()
	p.pid = pid
	p.start = start
	p.mu.Unlock()
	t.mu.Lock()
	t.running[pid] = p
	t.groups[pid] = struct{}{}
	prune := len(t.groups) > maxGroups
	t.mu.Unlock()
	if prune {
		t.pruneGroups()
	}
}

// maxGroups bounds the remembered groups before the gone ones are pruned.
const maxGroups = 1024

// pruneGroups drops the groups of exited commands that have no process left.
func (t *processTable) pruneGroups() {
	t.mu.Lock()
	groups := make([]int, 0, len(t.groups))
	for g := range t.groups {
		if _, running := t.running[g]; !running {
			groups = append(groups, g)
		}
	}
	t.mu.Unlock()
	for _, g := range groups {
		if !procutil.GroupExists(g) {
			t.mu.Lock()
			delete(t.groups, g)
			t.mu.Unlock()
		}
	}
}

func (t *processTable) finished(p *process, exit procutil.Exit, timedOut bool) {
	// Outside t.mu: it is a syscall.
	survivors := procutil.GroupExists(p.pid)
	t.mu.Lock()
	delete(t.running, p.pid)
	if p.tag != "" && t.tags[p.tag] == p {
		delete(t.tags, p.tag)
	}
	if !survivors {
		delete(t.groups, p.pid)
	}
	if p.background {
		t.exited = append(t.exited, p)
		if len(t.exited) > maxExited {
			t.exited = append([]*process(nil), t.exited[len(t.exited)-maxExited:]...)
		}
	}
	t.mu.Unlock()

	// Marked exited only now: whoever sees it exited finds its tag free.
	p.mu.Lock()
	p.exited = true
	p.exit = exit
	p.timedOut = timedOut
	p.mu.Unlock()
	close(p.done)
}

// lookup finds a running process by pid or tag.
func (t *processTable) lookup(pid int, tag string) (*process, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tag != "" {
		p, ok := t.tags[tag]
		if ok && p.pid == 0 {
			return nil, false // still starting
		}
		return p, ok
	}
	p, ok := t.running[pid]
	return p, ok
}

// findExited returns the most recent exited background process with pid or tag.
func (t *processTable) findExited(pid int, tag string) *process {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := len(t.exited) - 1; i >= 0; i-- {
		p := t.exited[i]
		if (tag != "" && p.tag == tag) || (tag == "" && p.pid == pid) {
			return p
		}
	}
	return nil
}

// ownsGroup reports whether pgid is a group the agent created that still exists.
func (t *processTable) ownsGroup(pgid int) bool {
	t.mu.Lock()
	_, ok := t.groups[pgid]
	t.mu.Unlock()
	if ok && !procutil.GroupExists(pgid) {
		t.mu.Lock()
		if _, running := t.running[pgid]; !running {
			delete(t.groups, pgid)
		}
		t.mu.Unlock()
		return false
	}
	return ok
}

// snapshot returns the running processes and the remembered exited ones,
// ordered by start time.
func (t *processTable) snapshot() []*process {
	t.mu.Lock()
	out := make([]*process, 0, len(t.running)+len(t.exited))
	for _, p := range t.running {
		out = append(out, p)
	}
	out = append(out, t.exited...)
	t.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// groupIDs returns the groups that may hold processes.
func (t *processTable) groupIDs() []int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]int, 0, len(t.groups))
	for g := range t.groups {
		out = append(out, g)
	}
	return out
}

func (t *processTable) runningProcesses() []*process {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*process, 0, len(t.running))
	for _, p := range t.running {
		out = append(out, p)
	}
	return out
}

// forget drops the exited processes and the groups that are gone (after a Reset).
func (t *processTable) forget() {
	t.mu.Lock()
	t.exited = nil
	t.mu.Unlock()
	t.pruneGroups()
}

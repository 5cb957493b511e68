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
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Proc is one process as /proc/<pid>/stat describes it.
type Proc struct {
	Pid   int
	PPid  int
	Pgid  int
	State byte // 'R', 'S', 'Z', ...
	Comm  string
}

// ListProcs reads every process visible in /proc. Processes that vanish while
// it reads are skipped.
func ListProcs() ([]Proc, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	procs := make([]Proc, 0, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, err := ReadProc(pid)
		if err != nil {
			continue
		}
		procs = append(procs, p)
	}
	return procs, nil
}

// ReadProc parses /proc/<pid>/stat.
func ReadProc(pid int) (Proc, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Proc{}, err
	}
	return parseStat(b)
}

// parseStat parses "pid (comm) state ppid pgrp ...". comm may itself hold
// spaces and parentheses, so the last ')' ends it.
func parseStat(b []byte) (Proc, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return Proc{}, fmt.Errorf("malformed stat %q", b)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:open])))
	if err != nil {
		return Proc{}, fmt.Errorf("malformed stat pid: %w", err)
	}
	rest := strings.Fields(string(b[end+1:]))
	if len(rest) < 3 || len(rest[0]) != 1 {
		return Proc{}, fmt.Errorf("malformed stat %q", b)
	}
	ppid, err1 := strconv.Atoi(rest[1])
	pgid, err2 := strconv.Atoi(rest[2])
	if err1 != nil || err2 != nil {
		return Proc{}, fmt.Errorf("malformed stat %q", b)
	}
	return Proc{Pid: pid, PPid: ppid, Pgid: pgid, State: rest[0][0], Comm: string(b[open+1 : end])}, nil
}

// Cmdline returns the argv of pid, or its comm in brackets for kernel
// threads and processes whose argv is gone (zombies).
func Cmdline(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err == nil && len(b) > 0 {
		return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	}
	if p, err := ReadProc(pid); err == nil {
		return []string{"[" + p.Comm + "]"}
	}
	return nil
}

// Descendants returns the processes of procs below root (not root itself).
func Descendants(procs []Proc, root int) []Proc {
	children := map[int][]Proc{}
	for _, p := range procs {
		children[p.PPid] = append(children[p.PPid], p)
	}
	var out []Proc
	queue := []int{root}
	seen := map[int]bool{root: true}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if seen[c.Pid] {
				continue
			}
			seen[c.Pid] = true
			out = append(out, c)
			queue = append(queue, c.Pid)
		}
	}
	return out
}

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

package local

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Limits bound one local sandbox's resources; zero means no limit.
type Limits struct {
	MemoryBytes int64
	CPUMillis   int64
	PIDs        int64
}

// cgroups puts each local sandbox in a cgroup of its own, under a parent
// that names the server's pod directory: cgroup v2 where its memory and
// pids controllers are available, else the v1 hierarchies of those
// controllers (and cpu's, when mounted). A sandbox's cgroup is made before
// the sandbox starts, so a process the server lost track of (a crash
// mid-start, a data directory deleted under running sandboxes) is still
// found there and killed.
type cgroups struct {
	v2 bool
	// parents are the parent directories, one per hierarchy (v1: memory,
	// pids, then cpu if mounted); parents[0] is the memory one.
	parents []string
}

// cgroupMount is one cgroup filesystem from /proc/self/mountinfo.
type cgroupMount struct {
	dir         string
	v2          bool
	controllers []string // v1: from the mount options; v2: cgroup.controllers
}

// parseCgroupMounts lists the cgroup mounts of a mountinfo table.
func parseCgroupMounts(mountinfo []byte) []cgroupMount {
	var mounts []cgroupMount
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		if !ok {
			continue
		}
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(tail) < 3 {
			continue
		}
		dir := unescapeMountPath(fields[4])
		switch tail[0] {
		case "cgroup2":
			data, _ := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
			mounts = append(mounts, cgroupMount{dir: dir, v2: true, controllers: strings.Fields(string(data))})
		case "cgroup":
			mounts = append(mounts, cgroupMount{dir: dir, controllers: strings.Split(tail[2], ",")})
		}
	}
	return mounts
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// newCgroups finds the hierarchies to use and prepares parent under them.
func newCgroups(mounts []cgroupMount, parent string) (*cgroups, error) {
	v2, parents, err := pickHierarchies(mounts, parent)
	if err != nil {
		return nil, err
	}
	if v2 {
		err = delegateV2(strings.TrimSuffix(parents[0], "/"+parent), parent)
	} else {
		for _, dir := range parents {
			if err = os.MkdirAll(dir, 0o755); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return &cgroups{v2: v2, parents: parents}, nil
}

// pickHierarchies chooses cgroup v2 when it has the memory and pids
// controllers, else the v1 hierarchies of memory, pids and (if mounted on
// its own) cpu, and returns parent's directory in each.
func pickHierarchies(mounts []cgroupMount, parent string) (v2 bool, parents []string, err error) {
	for _, m := range mounts {
		if m.v2 && slices.Contains(m.controllers, "memory") && slices.Contains(m.controllers, "pids") {
			return true, []string{filepath.Join(m.dir, parent)}, nil
		}
	}
	find := func(controller string) string {
		for _, m := range mounts {
			if !m.v2 && slices.Contains(m.controllers, controller) {
				return m.dir
			}
		}
		return ""
	}
	memory, pids, cpu := find("memory"), find("pids"), find("cpu")
	if memory == "" || pids == "" {
		return false, nil, fmt.Errorf("no cgroup hierarchy with the memory and pids controllers is mounted")
	}
	parents = []string{filepath.Join(memory, parent), filepath.Join(pids, parent)}
	if cpu != "" && cpu != memory && cpu != pids {
		parents = append(parents, filepath.Join(cpu, parent))
	}
	return false, parents, nil
}

// delegateV2 makes parent under a cgroup v2 mount and enables the
// controllers on the way down: a v2 cgroup can limit only what its parent
// delegates to it.
func delegateV2(mount, parent string) error {
	available, err := os.ReadFile(filepath.Join(mount, "cgroup.controllers"))
	if err != nil {
		return err
	}
	enable := "+memory +pids"
	if slices.Contains(strings.Fields(string(available)), "cpu") {
		enable += " +cpu"
	}
	dir := mount
	for _, part := range append(strings.Split(parent, "/"), "") {
		if err := writeFile(filepath.Join(dir, "cgroup.subtree_control"), enable); err != nil {
			return fmt.Errorf("delegating controllers below %s: %w", dir, err)
		}
		if part == "" {
			return nil
		}
		dir = filepath.Join(dir, part)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// dirs are the directories of one sandbox's cgroup, one per hierarchy.
func (c *cgroups) dirs(name string) []string {
	dirs := make([]string, len(c.parents))
	for i, p := range c.parents {
		dirs[i] = filepath.Join(p, name)
	}
	return dirs
}

// create makes a sandbox's cgroup with its limits.
func (c *cgroups) create(name string, l Limits) error {
	for _, dir := range c.dirs(name) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	for file, value := range c.limitFiles(name, l) {
		if err := writeFile(file, value); err != nil {
			return fmt.Errorf("limiting sandbox %s: %w", name, err)
		}
	}
	return nil
}

// limitFiles maps control files to the values that set l.
func (c *cgroups) limitFiles(name string, l Limits) map[string]string {
	files := map[string]string{}
	dirs := c.dirs(name)
	const period = 100000 // µs, the kernel's default CFS period
	quota := l.CPUMillis * period / 1000
	if c.v2 {
		dir := dirs[0]
		if l.MemoryBytes > 0 {
			files[filepath.Join(dir, "memory.max")] = strconv.FormatInt(l.MemoryBytes, 10)
			files[filepath.Join(dir, "memory.swap.max")] = "0"
		}
		if l.PIDs > 0 {
			files[filepath.Join(dir, "pids.max")] = strconv.FormatInt(l.PIDs, 10)
		}
		if quota > 0 && fileExists(filepath.Join(dir, "cpu.max")) {
			files[filepath.Join(dir, "cpu.max")] = fmt.Sprintf("%d %d", quota, period)
		}
		return files
	}
	if l.MemoryBytes > 0 {
		files[filepath.Join(dirs[0], "memory.limit_in_bytes")] = strconv.FormatInt(l.MemoryBytes, 10)
	}
	if l.PIDs > 0 {
		files[filepath.Join(dirs[1], "pids.max")] = strconv.FormatInt(l.PIDs, 10)
	}
	if quota > 0 && len(dirs) > 2 {
		files[filepath.Join(dirs[2], "cpu.cfs_period_us")] = strconv.Itoa(period)
		files[filepath.Join(dirs[2], "cpu.cfs_quota_us")] = strconv.FormatInt(quota, 10)
	}
	return files
}

// oomEvents is the file whose "oom_kill N" line counts the sandbox's OOM
// kills (the agent reads it to say a command was OOM-killed).
func (c *cgroups) oomEvents(name string) string {
	if c.v2 {
		return filepath.Join(c.dirs(name)[0], "memory.events")
	}
	return filepath.Join(c.dirs(name)[0], "memory.oom_control")
}

// procFiles are the files a process is added to to join the cgroup.
func (c *cgroups) procFiles(name string) []string {
	var files []string
	for _, dir := range c.dirs(name) {
		files = append(files, filepath.Join(dir, "cgroup.procs"))
	}
	return files
}

// procs lists the processes in a sandbox's cgroup.
func (c *cgroups) procs(name string) []int {
	var pids []int
	for _, file := range c.procFiles(name) {
		data, _ := os.ReadFile(file)
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && !slices.Contains(pids, pid) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// names lists the sandbox cgroups that exist.
func (c *cgroups) names() []string {
	entries, _ := os.ReadDir(c.parents[0])
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

// destroy kills every process in a sandbox's cgroup and removes it. A
// process forking as fast as it can is bounded by pids.max, so the kills
// catch up; it gives up after timeout.
func (c *cgroups) destroy(name string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids := c.procs(name)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sandbox cgroup %s still has processes %v", name, pids)
		}
		if c.v2 {
			_ = writeFile(filepath.Join(c.dirs(name)[0], "cgroup.kill"), "1")
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var errs []error
	for _, dir := range c.dirs(name) {
		// A cgroup is removed once its last process is reaped, which may
		// trail the kill.
		err := os.Remove(dir)
		for errors.Is(err, syscall.EBUSY) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			err = os.Remove(dir)
		}
		if err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func writeFile(path, value string) error {
	return os.WriteFile(path, []byte(value), 0o644)
}

// DestroyAll kills every sandbox of a pod directory (those a server of
// that directory would adopt, and those it lost) and removes their
// cgroups: what a test harness or an administrator does when no server
// will run on the directory again. Sandboxes without cgroups (a server
// that was not root) are not found here.
func DestroyAll(podsDir string) error {
	data, err := os.ReadFile(filepath.Join(podsDir, CgroupsFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	parents := strings.Fields(string(data))
	if len(parents) == 0 {
		return nil
	}
	c := &cgroups{parents: parents, v2: fileExists(filepath.Join(parents[0], "cgroup.controllers"))}
	var errs []error
	for _, name := range c.names() {
		errs = append(errs, c.destroy(name, 10*time.Second))
	}
	for _, dir := range parents {
		if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

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
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Where a container sees its own cgroup's OOM kill counter: cgroup v2's
// memory.events, or v1's memory.oom_control (kernel 4.13 and later).
var oomEventFiles = []string{"/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"}

// DetectOOMEvents returns the first of the usual OOM counter files that
// exists here, or "".
func DetectOOMEvents() string {
	for _, f := range oomEventFiles {
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return ""
}

// oomKills reads the "oom_kill N" line of path; -1 when there is none.
func oomKills(path string) int64 {
	if path == "" {
		return -1
	}
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if value, ok := strings.CutPrefix(sc.Text(), "oom_kill "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64); err == nil {
				return n
			}
		}
	}
	return -1
}

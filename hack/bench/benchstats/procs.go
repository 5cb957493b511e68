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

package benchstats

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The test cluster's processes (kube-apiserver, etcd, kubelet, kwok, and
// the pods' containers) all run on this machine, so what each spent is
// read from /proc, without metrics endpoints that differ per component.

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTicks = 100

// Usage is CPU seconds per component.
type Usage map[string]float64

// components maps a process name (/proc/<pid>/comm) to the component it is.
var components = map[string]string{
	"kube-apiserver":  "kube-apiserver",
	"kube-controller": "kube-controller-manager",
	"kube-scheduler":  "kube-scheduler",
	"kubelet":         "kubelet",
	"containerd":      "containerd",
	"kwok":            "kwok",
	"arl-apiserver":   "arl-apiserver",
	"arl-sidecar":     "arl-sidecar (the sandboxes' agents)",
	"arlscale":        "the benchmark's clients",
	"arlbench":        "the benchmark's clients",
	"etcd":            "etcd",
}

// componentOf names the component a process belongs to, "" if none.
// kube-apiserver's etcd runs on the node; ARL's etcd runs in a pod.
func componentOf(pid string) string {
	comm, err := os.ReadFile(filepath.Join("/proc", pid, "comm"))
	if err != nil {
		return ""
	}
	name := components[strings.TrimSpace(string(comm))]
	if name == "etcd" {
		if cg, _ := os.ReadFile(filepath.Join("/proc", pid, "cgroup")); bytes.Contains(cg, []byte("kubepods")) {
			return "etcd (ARL's, a pod)"
		}
		return "etcd (kube-apiserver's)"
	}
	return name
}

// CPUNow sums each component's CPU seconds (user + system) so far.
func CPUNow() Usage {
	u := Usage{}
	forEachComponent(func(pid, name string) {
		stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
		if err != nil {
			return
		}
		// Fields after the ")" that ends comm: utime and stime are the
		// 12th and 13th (fields 14 and 15 of proc(5)).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			return
		}
		utime, _ := strconv.ParseFloat(f[11], 64)
		stime, _ := strconv.ParseFloat(f[12], 64)
		u[name] += (utime + stime) / clockTicks
	})
	return u
}

// RSSMiB is the resident memory of each process of a component, in MiB.
func RSSMiB(component string) []float64 {
	var out []float64
	forEachComponent(func(pid, name string) {
		if name != component {
			return
		}
		status, err := os.ReadFile(filepath.Join("/proc", pid, "status"))
		if err != nil {
			return
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kib, _ := strconv.ParseFloat(f[1], 64)
				out = append(out, kib/1024)
			}
		}
	})
	sort.Float64s(out)
	return out
}

func forEachComponent(fn func(pid, name string)) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if name := componentOf(e.Name()); name != "" {
			fn(e.Name(), name)
		}
	}
}

// Since is the CPU each component spent from before to now.
func (before Usage) Since() Usage {
	now := CPUNow()
	d := Usage{}
	for name, v := range now {
		d[name] = v - before[name]
	}
	return d
}

// String prints the components by CPU spent, in seconds, most first.
func (u Usage) String() string { return u.format(1, "CPU s") }

// PerOp prints what each component spent per operation, n operations in
// all, in milliseconds of CPU, most first.
func (u Usage) PerOp(n int) string {
	if n == 0 {
		return ""
	}
	return u.format(1000/float64(n), "CPU ms")
}

func (u Usage) format(scale float64, unit string) string {
	names := make([]string, 0, len(u))
	total := 0.0
	for name, v := range u {
		if v*scale >= 0.05 {
			names = append(names, name)
		}
		total += v * scale
	}
	sort.Slice(names, func(i, j int) bool { return u[names[i]] > u[names[j]] })
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f", name, u[name]*scale))
	}
	return fmt.Sprintf("%.1f %s: %s", total, unit, strings.Join(parts, ", "))
}

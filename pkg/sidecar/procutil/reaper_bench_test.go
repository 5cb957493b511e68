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
	"os/exec"
	"syscall"
	"testing"
)

// The agent's spawn path against its floor, run in parallel as the agent
// runs concurrent Executes:
//
//	go test -trimpath -run '^$' -bench 'Spawn' -cpu 2 ./pkg/sidecar/procutil/
//
// BenchmarkSpawnForkExecFloor is syscall.ForkExec and wait4 on the pid,
// with no reaper; BenchmarkSpawnThroughReaper is StartProcess and its exit
// channel, with the reaper reaping every child as the agent's does.
func BenchmarkSpawnForkExecFloor(b *testing.B) {
	argv0 := truePath(b)
	b.SetParallelism(8) // 16 goroutines on 2 cores, as under concurrent Executes
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			pid, err := syscall.ForkExec(argv0, []string{"true"}, &syscall.ProcAttr{})
			if err != nil {
				b.Error(err)
				return
			}
			var ws syscall.WaitStatus
			if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkSpawnThroughReaper(b *testing.B) {
	argv0 := truePath(b)
	r := NewReaper(true)
	if err := r.Start(); err != nil {
		b.Fatal(err)
	}
	defer r.Stop()
	b.SetParallelism(8) // 16 goroutines on 2 cores, as under concurrent Executes
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, exited, err := r.StartProcess(argv0, []string{"true"}, &syscall.ProcAttr{})
			if err != nil {
				b.Error(err)
				return
			}
			if e := <-exited; e.Code() != 0 {
				b.Errorf("true exited %d", e.Code())
				return
			}
		}
	})
}

func truePath(b *testing.B) string {
	p, err := exec.LookPath("true")
	if err != nil {
		b.Skip(err)
	}
	return p
}

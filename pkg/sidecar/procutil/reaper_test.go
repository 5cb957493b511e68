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
	"fmt"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// TestReaperDispatchesByPidWhileReapingOrphans starts many commands that
// each leave an orphan behind, with the reaper as subreaper reaping
// everything: every command must still get its own exit status, and no
// zombie may be left.
func TestReaperDispatchesByPidWhileReapingOrphans(t *testing.T) {
	r := NewReaper(true)
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	sh := "/bin/sh"
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The subshell outlives sh and is reparented to us.
			argv := []string{"sh", "-c", fmt.Sprintf("(sleep 0.0%d; exit 99) & exit %d", i%10, i)}
			pid, exited, err := r.StartProcess(sh, argv, &syscall.ProcAttr{Sys: &syscall.SysProcAttr{Setpgid: true}})
			if err != nil {
				errs <- err
				return
			}
			select {
			case e := <-exited:
				if e.Code() != int32(i) {
					errs <- fmt.Errorf("command %d (pid %d) got exit code %d", i, pid, e.Code())
				}
			case <-time.After(30 * time.Second):
				errs <- fmt.Errorf("command %d (pid %d) never reported its exit", i, pid)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The orphans end within a second; the reaper must reap them all.
	self := os.Getpid()
	var children []Proc
	err := wait.PollUntilContextTimeout(t.Context(), 20*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		procs, err := ListProcs()
		children = Descendants(procs, self)
		return len(children) == 0, err
	})
	if err != nil {
		t.Fatalf("children left (zombies not reaped?): %+v (%v)", children, err)
	}
}

func TestReaperWithoutOrphansLeavesOtherChildrenAlone(t *testing.T) {
	r := NewReaper(false)
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	// A child this reaper does not own: its status must stay for its owner.
	other, err := os.StartProcess("/bin/sh", []string{"sh", "-c", "exit 7"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	_, exited, err := r.StartProcess("/bin/sh", []string{"sh", "-c", "exit 5"}, &syscall.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	if e := <-exited; e.Code() != 5 {
		t.Errorf("own child: exit %d, want 5", e.Code())
	}
	st, err := other.Wait()
	if err != nil || st.ExitCode() != 7 {
		t.Errorf("other child: %v %v, want its exit code 7", st, err)
	}
}

func TestExitCodeOfASignalledProcess(t *testing.T) {
	r := NewReaper(false)
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	_, exited, err := r.StartProcess("/bin/sh", []string{"sh", "-c", "kill -KILL $$"}, &syscall.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	e := <-exited
	if e.Code() != 137 || e.SignalName() != "SIGKILL" {
		t.Errorf("exit %d %q, want 137 SIGKILL", e.Code(), e.SignalName())
	}
}

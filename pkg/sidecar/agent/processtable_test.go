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
	"testing"
	"time"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// Whoever sees a process exited (ListProcesses) may reuse its tag at once:
// the tag used to be released only after the process was marked exited, and
// a caller that waited for the exit and started the next command with the
// same tag could get AlreadyExists "in use by running process". Found by
// FuzzExecute. A goroutine watches each process while it finishes and takes
// its tag the moment it shows exited.
func TestAProcessShownExitedHasReleasedItsTag(t *testing.T) {
	table := newProcessTable()
	const noSuchPid = 1 << 30 // above any pid_max: its group never exists
	for i := range 20000 {
		p := newProcess("tag", []string{"x"}, true)
		if err := table.reserve(p); err != nil {
			t.Fatalf("iteration %d: %v", i, err)
		}
		table.started(p, noSuchPid, time.Now())
		probe := newProcess("tag", []string{"y"}, true)
		taken := make(chan error)
		go func() {
			for p.info(0).GetState() != agentv1.ProcessInfo_EXITED {
			}
			taken <- table.reserve(probe)
		}()
		table.finished(p, procutil.Exit{}, false)
		if err := <-taken; err != nil {
			t.Fatalf("iteration %d: the process shows exited, but: %v", i, err)
		}
		table.release(probe)
	}
}

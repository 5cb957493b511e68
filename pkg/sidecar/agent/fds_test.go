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

package agent_test

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCommandsInheritNoDescriptors: a descriptor the agent's process
// inherited (here: one the test opens without close-on-exec, as a parent's
// pipe would be) reaches none of the commands the agent runs. A background
// command holding the write end of its parent's pipe kept the reader (go
// test's fuzz coordinator) waiting for EOF forever.
func TestCommandsInheritNoDescriptors(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	inherited, err := unix.Dup(int(w.Fd())) // dup(2): without close-on-exec
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(inherited)

	ta := startAgent(t, nil)
	script := fmt.Sprintf("test -e /proc/$$/fd/%d && echo inherited || echo none", inherited)
	res := ta.run(t, cmd("sh", "-c", script))
	if got := string(res.Stdout); got != "none\n" {
		t.Errorf("a command of the agent sees descriptor %d: %q", inherited, got)
	}
}

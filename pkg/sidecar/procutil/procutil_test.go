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
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"SIGTERM": syscall.SIGTERM, "term": syscall.SIGTERM, "Kill": syscall.SIGKILL,
		"9": syscall.SIGKILL, " SIGINT ": syscall.SIGINT, "usr1": syscall.SIGUSR1, "34": 34,
		// What SignalName answers for a signal without a name parses back.
		"SIG40": 40, "sig64": 64,
	} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "65", "-1", "SIGFOO", "9x", "SIG0", "SIG65", "SIG-1"} {
		if got, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) = %v, want an error", in, got)
		}
	}
	if SignalName(syscall.SIGTERM) != "SIGTERM" || SignalName(40) != "SIG40" {
		t.Errorf("SignalName: %q %q", SignalName(syscall.SIGTERM), SignalName(40))
	}
}

func TestParseStatWithAnAwkwardComm(t *testing.T) {
	p, err := parseStat([]byte("4242 (a) b (c) S 1 4240 4240 0 -1 4194560 0 0"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Pid != 4242 || p.Comm != "a) b (c" || p.State != 'S' || p.PPid != 1 || p.Pgid != 4240 {
		t.Errorf("parsed %+v", p)
	}
	if _, err := parseStat([]byte("garbage")); err == nil {
		t.Error("garbage parsed")
	}
	self, err := ReadProc(os.Getpid())
	if err != nil || self.Pid != os.Getpid() || self.PPid != os.Getppid() {
		t.Errorf("ReadProc(self) = %+v, %v", self, err)
	}
}

func TestDescendants(t *testing.T) {
	procs := []Proc{{Pid: 1}, {Pid: 10, PPid: 1}, {Pid: 11, PPid: 10}, {Pid: 12, PPid: 11}, {Pid: 20, PPid: 1}}
	got := Descendants(procs, 10)
	if len(got) != 2 || got[0].Pid != 11 || got[1].Pid != 12 {
		t.Errorf("Descendants(10) = %+v", got)
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool")
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/nonexistent:" + dir}
	if got, err := LookPath("tool", env, "/"); err != nil || got != exe {
		t.Errorf("LookPath(tool) = %q, %v", got, err)
	}
	if got, err := LookPath("./tool", nil, dir); err != nil || got != exe {
		t.Errorf("LookPath(./tool) = %q, %v", got, err)
	}
	if _, err := LookPath("plain", env, "/"); !errors.Is(err, ErrNotExecutable) {
		t.Errorf("LookPath(plain) error %v, want not executable", err)
	}
	if _, err := LookPath("nothing", env, "/"); !errors.Is(err, ErrNotFound) {
		t.Errorf("LookPath(nothing) error %v, want not found", err)
	}
	// Without PATH, the runtimes' default applies.
	if got, err := LookPath("sh", nil, "/"); err != nil || filepath.Base(got) != "sh" {
		t.Errorf("LookPath(sh) without PATH = %q, %v", got, err)
	}
}

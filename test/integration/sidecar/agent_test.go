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

package sidecar

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

func TestAgentBinaryRunsCommandsWithoutItsCredentials(t *testing.T) {
	a := startAgent(t, []string{"ARL_SANDBOX_TOKEN=s3cret", "PIP_TOKEN=s3cret2"}, nil, []string{"--scrub-env", "PIP_*"})
	res, err := a.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"env"}, Env: map[string]string{"VERSION": "1.0"}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(res.Stdout, []byte("s3cret")) {
		t.Errorf("the command saw the agent's credentials:\n%s", res.Stdout)
	}
	if !bytes.Contains(res.Stdout, []byte("VERSION=1.0\n")) {
		t.Errorf("the request's env is missing:\n%s", res.Stdout)
	}
	st, err := os.Stat(a.socket)
	if err != nil || st.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v (%v), want 0660", st.Mode().Perm(), err)
	}
}

func TestAgentReapsOrphansAndResetKillsEscapees(t *testing.T) {
	a := startAgent(t, nil, nil, nil)
	agentPid := a.cmd.Process.Pid
	// An orphan reparented to the agent (a subreaper) that ends at once,
	// and one that left its process group with setsid.
	res, err := a.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"bash", "-c", "(sleep 0.1 &); setsid sleep 1000 >/dev/null 2>&1 & echo $!"}})
	if err != nil {
		t.Fatal(err)
	}
	escapee := atoi(t, string(res.Stdout))
	// It escaped the agent's groups: if an assertion fails before Reset,
	// nothing else would end it.
	t.Cleanup(func() { _ = syscall.Kill(escapee, syscall.SIGKILL) })
	eventually(t, func() bool {
		for _, p := range descendants(t, agentPid) {
			if p.State == 'Z' || p.Pid != escapee {
				return false
			}
		}
		return true
	}, func() string { return "the agent left zombies or the orphans are not its children" })
	if p, err := procutil.ReadProc(escapee); err != nil || p.PPid != agentPid || p.Pgid == agentPid {
		t.Fatalf("the setsid orphan %d: %+v %v; want it reparented to the agent %d in a group of its own", escapee, p, err, agentPid)
	}
	resp, err := a.Reset(callCtx(t), &agentv1.ResetRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(resp.GetKilled(), func(k *agentv1.KilledProcess) bool { return int(k.GetPid()) == escapee }) {
		t.Errorf("killed %v, want the setsid orphan %d among them", resp.GetKilled(), escapee)
	}
	if d := descendants(t, agentPid); len(d) != 0 {
		t.Errorf("processes left after reset: %+v", d)
	}
}

func TestAgentStopEndsEveryProcess(t *testing.T) {
	a := startAgent(t, nil, nil, []string{"--kill-grace", "500ms"})
	bg, err := a.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"sh", "-c", "trap '' TERM; sleep 1000"}, Background: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := a.exitCode(); code != 0 {
		t.Errorf("agent exit code %d, want 0", code)
	}
	if err := syscall.Kill(int(bg.Pid), 0); err == nil {
		if p, _ := procutil.ReadProc(int(bg.Pid)); p.State != 'Z' {
			t.Errorf("process %d survived the agent", bg.Pid)
		}
	}
	if _, err := os.Stat(a.socket); !os.IsNotExist(err) {
		t.Errorf("socket left behind: %v", err)
	}
}

func TestAgentWrapsTheMainCommand(t *testing.T) {
	t.Run("its exit code is the agent's", func(t *testing.T) {
		dir := tempDir(t)
		p := startProc(t, nil, binary, "agent", "--socket", dir+"/a.sock", "--workspace", dir+"/ws", "--", "sh", "-c", "sleep 0.5; exit 7")
		if code := p.exitCode(); code != 7 {
			t.Errorf("exit code %d, want 7", code)
		}
	})
	t.Run("signals are forwarded to it", func(t *testing.T) {
		a := startAgent(t, nil, nil, []string{"--", "sleep", "1000"})
		if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := a.exitCode(); code != 128+15 {
			t.Errorf("exit code %d, want 143 (the command killed by the forwarded SIGTERM)", code)
		}
	})
	t.Run("a missing command", func(t *testing.T) {
		dir := tempDir(t)
		p := startProc(t, nil, binary, "agent", "--socket", dir+"/a.sock", "--workspace", dir+"/ws", "--", "no-such-command-arl")
		if code := p.exitCode(); code != 127 {
			t.Errorf("exit code %d, want 127", code)
		}
	})
	t.Run("reset spares it", func(t *testing.T) {
		a := startAgent(t, nil, nil, []string{"--", "sleep", "1000"})
		if _, err := a.Run(callCtx(t), &agentv1.ExecRequest{Command: []string{"sleep", "1000"}, Background: true}); err != nil {
			t.Fatal(err)
		}
		resp, err := a.Reset(callCtx(t), &agentv1.ResetRequest{})
		if err != nil || len(resp.GetKilled()) != 1 {
			t.Fatalf("reset killed %v (%v), want only the background sleep", resp.GetKilled(), err)
		}
		d := descendants(t, a.cmd.Process.Pid)
		if len(d) != 1 || !strings.HasPrefix(strings.Join(procutil.Cmdline(d[0].Pid), " "), "sleep 1000") {
			t.Fatalf("after reset: %+v, want the main command alone", d)
		}
	})
}

func TestInstallCopiesTheBinary(t *testing.T) {
	dest := tempDir(t) + "/shared/.arl/bin/arl-sidecar"
	p := startProc(t, nil, binary, "install", "--dest", dest)
	if code := p.exitCode(); code != 0 {
		t.Fatalf("install exit code %d", code)
	}
	want, _ := os.ReadFile(binary)
	got, err := os.ReadFile(dest)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("installed copy differs (%v)", err)
	}
	if help := startProc(t, nil, dest, "--help"); help.exitCode() != 0 || !strings.Contains(help.logs.String(), "agent") {
		t.Fatalf("the installed binary does not run: %s", help.logs.String())
	}
}

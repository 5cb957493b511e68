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

// Package agent implements arl.agent.v1.AgentService inside the sandbox's
// executor container: it runs commands, writes and reads files, opens PTYs
// and resets the sandbox, in the user's own image. See docs/sidecar.md.
package agent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/arl-infra/arl/pkg/sidecar/procutil"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// Defaults of Config.
const (
	DefaultMaxOutputBytes = 32 << 20
	DefaultKillGrace      = 2 * time.Second
	DefaultLogTailBytes   = 1 << 20
	// MaxReadBytes bounds one ReadFile answer (it must fit a gRPC message).
	MaxReadBytes = 16 << 20
	// MaxMessageBytes is the gRPC message limit the agent, serve and the
	// client agree on: UpdateFiles carries whole files.
	MaxMessageBytes = 64 << 20
)

// Config configures an Agent.
type Config struct {
	// Workspace is where relative paths and commands without a working
	// directory go; Reset empties it. It is created if missing.
	Workspace string
	// AllowedRoots bound the paths the file RPCs (UpdateFiles, ReadFile,
	// WriteFile, Stat, ListDir, Remove, the archives, ...) accept.
	// Default: "/" (the whole container filesystem).
	AllowedRoots []string
	// MaxOutputBytes is the default per-stream output cap of Execute.
	MaxOutputBytes int64
	// KillGrace is the default time between SIGTERM and SIGKILL.
	KillGrace time.Duration
	// LogDir, when set, receives one log file per background process.
	LogDir string
	// LogTailBytes is the in-memory log tail kept per background process.
	LogTailBytes int
	// Env is the environment commands start from (default os.Environ()).
	// Variables named ARL_* or listed in ScrubEnv are removed from it: they
	// are the agent's, not the user's.
	Env []string
	// ScrubEnv lists more variable names to remove; "PREFIX*" removes a prefix.
	ScrubEnv []string
	// OOMEvents is the file with the container cgroup's "oom_kill N"
	// counter (see DetectOOMEvents); a command killed by SIGKILL while it
	// grew is reported as OOM-killed. Empty: not reported.
	OOMEvents string
	// ReapOrphans makes the agent a child subreaper that reaps every child,
	// as it must be when it runs as PID 1 or wraps the container's command.
	// The process then must start no children other than through the agent.
	ReapOrphans bool
}

// Agent implements agentv1.AgentServiceServer.
type Agent struct {
	agentv1.UnimplementedAgentServiceServer

	cfg     Config
	paths   *pathPolicy
	env     []string
	reaper  *procutil.Reaper
	procs   *processTable
	devNull *os.File

	mainMu  sync.Mutex
	mainPid int // the wrapped container command, spared by Reset

	started time.Time // for GetStats' uptime

	fence fence // the calls of Sandboxes that left (Reset)
}

var _ agentv1.AgentServiceServer = &Agent{}

// New validates cfg, creates the workspace and starts the reaper. The
// commands it runs inherit none of this process's descriptors but their
// stdio (procutil.CloseInheritedOnExec).
func New(cfg Config) (*Agent, error) {
	if cfg.Workspace == "" {
		return nil, fmt.Errorf("workspace is required")
	}
	if err := procutil.CloseInheritedOnExec(); err != nil {
		return nil, err
	}
	ws, err := filepath.Abs(cfg.Workspace)
	if err != nil {
		return nil, err
	}
	cfg.Workspace = ws
	if err := os.MkdirAll(ws, 0o755); err != nil {
		return nil, fmt.Errorf("creating workspace: %w", err)
	}
	if len(cfg.AllowedRoots) == 0 {
		cfg.AllowedRoots = []string{"/"}
	}
	paths, err := newPathPolicy(ws, cfg.AllowedRoots)
	if err != nil {
		return nil, err
	}
	if cfg.MaxOutputBytes <= 0 {
		cfg.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = DefaultKillGrace
	}
	if cfg.LogTailBytes <= 0 {
		cfg.LogTailBytes = DefaultLogTailBytes
	}
	if cfg.LogDir != "" {
		if err := os.MkdirAll(cfg.LogDir, 0o755); err != nil {
			return nil, fmt.Errorf("creating log directory: %w", err)
		}
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		started: time.Now(),
		cfg:     cfg,
		paths:   paths,
		env:     baseEnv(cfg.Env, cfg.ScrubEnv),
		reaper:  procutil.NewReaper(cfg.ReapOrphans),
		procs:   newProcessTable(),
		devNull: devNull,
	}
	if err := a.reaper.Start(); err != nil {
		devNull.Close()
		return nil, fmt.Errorf("starting the reaper: %w", err)
	}
	return a, nil
}

// Register adds the AgentService to s.
func (a *Agent) Register(s *grpc.Server) { agentv1.RegisterAgentServiceServer(s, a) }

// Workspace returns the absolute workspace directory.
func (a *Agent) Workspace() string { return a.cfg.Workspace }

// Close stops the reaper. Processes still running are left alone: call
// KillAll first to end them.
func (a *Agent) Close() {
	a.reaper.Stop()
	a.devNull.Close()
}

// baseEnv removes the agent's own variables from env and makes sure PATH is set.
func baseEnv(env, scrub []string) []string {
	out := make([]string, 0, len(env)+1)
	hasPath := false
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if scrubbed(name, scrub) {
			continue
		}
		if name == "PATH" {
			hasPath = true
		}
		out = append(out, kv)
	}
	if !hasPath {
		out = append(out, "PATH="+procutil.DefaultPath)
	}
	return out
}

func scrubbed(name string, scrub []string) bool {
	if strings.HasPrefix(name, "ARL_") {
		return true
	}
	for _, s := range scrub {
		if p, ok := strings.CutSuffix(s, "*"); ok {
			if strings.HasPrefix(name, p) {
				return true
			}
		} else if name == s {
			return true
		}
	}
	return false
}

// commandEnv is the agent's base environment with extra set on top.
func (a *Agent) commandEnv(extra map[string]string) []string {
	if len(extra) == 0 {
		return a.env
	}
	out := make([]string, 0, len(a.env)+len(extra))
	for _, kv := range a.env {
		name, _, _ := strings.Cut(kv, "=")
		if _, overridden := extra[name]; !overridden {
			out = append(out, kv)
		}
	}
	for k, v := range extra {
		out = append(out, k+"="+v)
	}
	return out
}

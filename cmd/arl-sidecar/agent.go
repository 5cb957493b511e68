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

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/sidecar/agent"
	"github.com/arl-infra/arl/pkg/sidecar/procutil"
)

// Exit codes of the agent itself when the wrapped command cannot start.
const (
	exitNotFound  = 127
	exitCantStart = 126
	exitBadUsage  = 2
	exitFailure   = 1
)

func runAgent(args []string) int {
	fs := newFlagSet("agent")
	fs.SetInterspersed(false) // everything after the first argument is the command
	socket := fs.String("socket", "/.arl/run/agent.sock", "unix socket to listen on (its directory is created)")
	workspace := fs.String("workspace", "/workspace", "workspace directory: default working directory, base of relative paths, emptied by Reset")
	roots := fs.StringArray("allowed-root", nil, "directory UpdateFiles/ReadFile may touch (repeatable; default /)")
	maxOutput := fs.Int64("max-output-bytes", agent.DefaultMaxOutputBytes, "default per-stream output cap of Execute")
	logDir := fs.String("log-dir", "", "directory for the log files of background processes (default: in-memory tail only)")
	logTail := fs.Int("log-tail-bytes", agent.DefaultLogTailBytes, "in-memory log tail kept per background process")
	killGrace := fs.Duration("kill-grace", agent.DefaultKillGrace, "default time between SIGTERM and SIGKILL on timeout, cancel and shutdown")
	socketMode := fs.String("socket-mode", "0660", "mode of the socket (octal)")
	socketGroup := fs.Int("socket-group", -1, "group id of the socket (-1: unchanged)")
	oomEvents := fs.String("oom-events", "auto", `file with the container cgroup's "oom_kill N" counter, to report OOM-killed commands ("auto": the usual cgroup v2 or v1 file; "": none)`)
	scrub := fs.StringSlice("scrub-env", nil, "more variables (NAME or PREFIX*) to remove from commands' environment; ARL_* always are")
	fs.Usage = func() {
		fmt.Fprint(os.Stderr, "Usage: arl-sidecar agent [flags] [-- COMMAND ARGS...]\n\n"+
			"Serves the AgentService on a unix socket. With a COMMAND it supervises it as the\n"+
			"container's main process: signals are forwarded to it, and when it exits the agent\n"+
			"ends every other process and exits with its code.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if ok, code := parse(fs, args); !ok {
		return code
	}
	mode, err := strconv.ParseUint(*socketMode, 8, 32)
	if err != nil {
		klog.ErrorS(err, "Invalid --socket-mode")
		return exitBadUsage
	}

	// Signals are caught before anything starts, so that none is lost.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)

	a, err := agent.New(agent.Config{
		Workspace:      *workspace,
		AllowedRoots:   *roots,
		MaxOutputBytes: *maxOutput,
		KillGrace:      *killGrace,
		LogDir:         *logDir,
		LogTailBytes:   *logTail,
		ScrubEnv:       *scrub,
		OOMEvents:      oomEventsFile(*oomEvents),
		ReapOrphans:    true,
	})
	if err != nil {
		klog.ErrorS(err, "Starting the agent failed")
		return exitFailure
	}
	lis, err := agent.ListenUnix(*socket, os.FileMode(mode), *socketGroup)
	if err != nil {
		klog.ErrorS(err, "Listening failed", "socket", *socket)
		return exitFailure
	}
	srv := a.NewServer()

	shutdown := func(code int) int {
		srv.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), *killGrace+10*time.Second)
		defer cancel()
		killed, err := a.KillAll(ctx, *killGrace)
		if err != nil {
			klog.ErrorS(err, "Not every process ended")
		}
		a.Close()
		_ = os.Remove(*socket)
		klog.InfoS("Agent stopped", "exitCode", code, "killed", len(killed))
		return code
	}

	var exited <-chan procutil.Exit
	mainPid := 0
	if cmd := fs.Args(); len(cmd) > 0 {
		mainPid, exited, err = a.StartMain(cmd)
		if err != nil {
			klog.ErrorS(err, "Starting the command failed", "command", cmd)
			code := exitCantStart
			if errors.Is(err, procutil.ErrNotFound) {
				code = exitNotFound
			}
			return shutdown(code)
		}
		klog.InfoS("Started the main command", "pid", mainPid, "command", cmd)
	}
	// Serving starts once the main command runs: a caller that sees the
	// socket answer (a readiness probe) may signal the container at once,
	// and the signal must find the command to forward it to.
	go func() {
		if err := srv.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			klog.ErrorS(err, "Serving failed")
		}
	}()
	klog.InfoS("Agent listening", "socket", *socket, "workspace", a.Workspace(), "pid", os.Getpid())
	for {
		select {
		case sig := <-sigs:
			if mainPid > 0 {
				// The command decides; the agent ends when it does.
				klog.V(1).InfoS("Forwarding a signal to the main command", "signal", sig, "pid", mainPid)
				_ = unix.Kill(mainPid, sig.(syscall.Signal))
				continue
			}
			if sig == unix.SIGTERM || sig == unix.SIGINT || sig == unix.SIGHUP {
				klog.InfoS("Stopping", "signal", sig)
				return shutdown(0)
			}
		case e := <-exited:
			klog.InfoS("The main command exited", "pid", mainPid, "exitCode", e.Code(), "signal", e.SignalName())
			return shutdown(int(e.Code()))
		}
	}
}

func oomEventsFile(flag string) string {
	if flag == "auto" {
		return agent.DetectOOMEvents()
	}
	return flag
}

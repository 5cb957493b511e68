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

// Command arl-sidecar is the process every sandbox pod runs, in three roles:
//
//	arl-sidecar agent   runs in the executor container (wrapping its command
//	                    as PID 1) and does the work, on a unix socket;
//	arl-sidecar serve   runs in the sidecar container: mTLS AgentService on
//	                    :50051 forwarded to the agent, plaintext health;
//	arl-sidecar install copies this binary into a shared volume;
//	arl-sidecar launch  starts a local sandbox (standalone mode's runtime).
//
// See docs/sidecar.md.
package main

import (
	"errors"
	goflag "flag"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

const usage = `Usage: arl-sidecar COMMAND [flags]

Commands:
  agent    run commands for the AgentService on a unix socket (in the executor container)
  serve    serve the AgentService over mTLS, forwarding to the agent (in the sidecar container)
  install  copy this binary to a shared volume (in an init container)
  launch   start a local sandbox: join its cgroups, drop privileges, exec bubblewrap (standalone mode)

Run "arl-sidecar COMMAND --help" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var run func([]string) int
	switch os.Args[1] {
	case "agent":
		run = runAgent
	case "serve":
		run = runServe
	case "install":
		run = runInstall
	case "launch":
		run = runLaunch
	case "-h", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "arl-sidecar: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	code := run(os.Args[2:])
	klog.Flush()
	os.Exit(code)
}

// newFlagSet returns a flag set with klog's flags (-v, ...) added.
func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet("arl-sidecar "+name, pflag.ContinueOnError)
	gfs := goflag.NewFlagSet(name, goflag.ContinueOnError)
	klog.InitFlags(gfs)
	fs.AddGoFlagSet(gfs)
	return fs
}

// parse parses args; it returns false with the exit code when the command
// should not run (help asked, or bad flags).
func parse(fs *pflag.FlagSet, args []string) (bool, int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return false, 0
		}
		return false, 2
	}
	return true, 0
}

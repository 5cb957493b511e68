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

// kubectl-arl is the kubectl plugin for ARL's sandboxes: `kubectl arl
// shell SANDBOX` opens a terminal in one, `exec` runs a command attached to
// the caller's streams, `run` runs it as a Task (tasks/exec) and prints the
// result, `logs` prints a Task's output, `ps`, `kill` and `reset` list,
// signal and end a sandbox's processes, `cp` copies files to and from it.
// --kubeconfig, --context and -n behave as in kubectl.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// exitError carries a remote command's exit code to the plugin's own.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit code %d", e.code) }

func main() {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	cmd := newRootCommand(streams)
	if err := cmd.Execute(); err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			os.Exit(exit.code)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func newRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	root := &cobra.Command{
		Use:           "kubectl arl",
		Short:         "Reach ARL sandboxes: a shell, commands, Tasks and their logs, processes, files",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	flags.AddFlags(root.PersistentFlags())
	// -s is kill's signal, as in kill(1); the API server stays --server.
	root.PersistentFlags().Lookup("server").Shorthand = ""
	root.AddCommand(
		newShellCommand(flags, streams), newExecCommand(flags, streams), newRunCommand(flags, streams),
		newLogsCommand(flags, streams),
		newPsCommand(flags, streams), newKillCommand(flags, streams), newResetCommand(flags, streams),
		newCpCommand(flags, streams),
	)
	return root
}

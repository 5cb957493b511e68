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

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlscheme "github.com/arl-infra/arl/pkg/generated/clientset/versioned/scheme"
)

func newShellCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "shell SANDBOX [-- COMMAND [ARG...]]",
		Short: "Open a terminal in a sandbox: its shell, or COMMAND",
		Example: `  kubectl arl shell my-workspace
  kubectl arl shell my-workspace -- python3`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newARLClient(flags)
			if err != nil {
				return err
			}
			return c.exec(cmd.Context(), args[0], args[1:], true, true, streams)
		},
	}
}

func newExecCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	var stdin, tty bool
	cmd := &cobra.Command{
		Use:   "exec SANDBOX [-i] [-t] -- COMMAND [ARG...]",
		Short: "Run a command in a sandbox attached to this terminal's streams; its exit code is this one's",
		Example: `  kubectl arl exec my-workspace -- ls -la
  tar c src | kubectl arl exec my-workspace -i -- tar x -C /workspace`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newARLClient(flags)
			if err != nil {
				return err
			}
			return c.exec(cmd.Context(), args[0], args[1:], stdin, tty, streams)
		},
	}
	cmd.Flags().BoolVarP(&stdin, "stdin", "i", false, "pass stdin to the command")
	cmd.Flags().BoolVarP(&tty, "tty", "t", false, "run the command on a terminal")
	return cmd
}

// exec runs sandboxes/{name}/exec with client-go's WebSocket executor,
// kubectl exec's; a terminal session puts this terminal in raw mode and
// forwards its size.
func (c *arlClient) exec(ctx context.Context, sandbox string, command []string, stdin, tty bool, streams genericiooptions.IOStreams) error {
	opts := &arlv1alpha1.SandboxExecOptions{Command: command, Stdin: stdin, Stdout: true, Stderr: !tty, TTY: tty}
	url := c.rest.Get().Namespace(c.namespace).Resource("sandboxes").Name(sandbox).SubResource("exec").
		VersionedParams(opts, arlscheme.ParameterCodec).URL()
	executor, err := remotecommand.NewWebSocketExecutor(c.config, "GET", url.String())
	if err != nil {
		return err
	}
	options := remotecommand.StreamOptions{Stdout: streams.Out, Tty: tty}
	if stdin {
		options.Stdin = streams.In
	}
	if !tty {
		options.Stderr = streams.ErrOut
	}
	if tty {
		term, err := openTerminal(ctx, streams)
		if err != nil {
			return err
		}
		defer term.restore()
		options.TerminalSizeQueue = term
	}
	err = executor.StreamWithContext(ctx, options)
	var code exec.CodeExitError
	if errors.As(err, &code) {
		return exitError{code: code.Code}
	}
	return err
}

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
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlscheme "github.com/arl-infra/arl/pkg/generated/clientset/versioned/scheme"
)

// interruptedExitCode is a shell's code for a command ended by Ctrl-C (128 + SIGINT).
const interruptedExitCode = 130

func newLogsCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	var opts arlv1alpha1.TaskLogOptions
	cmd := &cobra.Command{
		Use:   "logs TASK [-f] [--raw]",
		Short: "Print a Task's output (tasks/{name}/log); -f follows it until the Task finishes",
		Example: `  kubectl arl logs my-task
  kubectl arl logs -f my-task
  kubectl arl logs --raw my-task > output.bin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newARLClient(flags)
			if err != nil {
				return err
			}
			// Ctrl-C ends the stream here rather than killing the process
			// mid-write, so what was received is all on stdout.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = c.streamLog(ctx, args[0], &opts, streams.Out)
			if ctx.Err() != nil && cmd.Context().Err() == nil {
				return exitError{code: interruptedExitCode}
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&opts.Follow, "follow", "f", false, "stream the output as the Task prints it, until it finishes")
	cmd.Flags().BoolVar(&opts.Raw, "raw", false, "the exact bytes printed, stdout and stderr interleaved, also after the Task finished (kept by the server for a few minutes)")
	return cmd
}

// streamLog copies tasks/{name}/log to out as it arrives.
func (c *arlClient) streamLog(ctx context.Context, task string, opts *arlv1alpha1.TaskLogOptions, out io.Writer) error {
	body, err := c.rest.Get().Namespace(c.namespace).Resource("tasks").Name(task).SubResource("log").
		VersionedParams(opts, arlscheme.ParameterCodec).Stream(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.Copy(out, body)
	return err
}

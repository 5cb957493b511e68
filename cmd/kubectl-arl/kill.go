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
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

func newKillCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	request := &arlv1alpha1.SandboxSignal{}
	cmd := &cobra.Command{
		Use:   "kill SANDBOX (PID | --tag TAG) [-s SIGNAL] [--process-only]",
		Short: "Signal a process in a sandbox (sandboxes/{name}/signal), its process group unless --process-only",
		Example: `  kubectl arl kill my-workspace 4242
  kubectl arl kill my-workspace --tag web -s SIGINT
  kubectl arl kill my-workspace 4242 -s 9 --process-only`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) == 2 && request.Tag != "":
				return errors.New("give a PID or --tag, not both")
			case len(args) == 2:
				pid, err := strconv.ParseInt(args[1], 10, 32)
				if err != nil || pid <= 0 {
					return fmt.Errorf("PID %q is not a process id", args[1])
				}
				request.PID = int32(pid)
			case request.Tag == "":
				return errors.New("name the process: a PID or --tag TAG")
			}
			c, err := newARLClient(flags)
			if err != nil {
				return err
			}
			sent := &arlv1alpha1.SandboxSignal{}
			err = c.rest.Post().Namespace(c.namespace).Resource("sandboxes").Name(args[0]).SubResource("signal").
				Body(request).Do(cmd.Context()).Into(sent)
			if err != nil {
				return err
			}
			target := fmt.Sprintf("process %d", sent.Status.PID)
			if sent.Status.ProcessGroup {
				target = fmt.Sprintf("the process group of %d", sent.Status.PID)
			}
			if request.Tag != "" {
				target += fmt.Sprintf(" (tag %s)", request.Tag)
			}
			_, err = fmt.Fprintf(streams.Out, "%s sent to %s in sandbox %s\n", sent.Status.Signal, target, args[0])
			return err
		},
	}
	cmd.Flags().StringVar(&request.Tag, "tag", "", "signal the running process started with this tag instead of a PID")
	cmd.Flags().StringVarP(&request.Signal, "signal", "s", "", "a signal name (SIGTERM, TERM, term) or number; the server's default is SIGTERM")
	cmd.Flags().BoolVar(&request.ProcessOnly, "process-only", false, "signal the process alone, not its process group")
	return cmd
}

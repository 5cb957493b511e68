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
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

func newResetCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	request := &arlv1alpha1.SandboxReset{}
	cmd := &cobra.Command{
		Use:   "reset SANDBOX [--preserve-files]",
		Short: "Kill every process in a sandbox and empty its workspace (sandboxes/{name}/reset)",
		Example: `  kubectl arl reset my-workspace
  kubectl arl reset my-workspace --preserve-files`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newARLClient(flags)
			if err != nil {
				return err
			}
			done := &arlv1alpha1.SandboxReset{}
			err = c.rest.Post().Namespace(c.namespace).Resource("sandboxes").Name(args[0]).SubResource("reset").
				Body(request).Do(cmd.Context()).Into(done)
			if err != nil {
				return err
			}
			var report strings.Builder
			for _, p := range done.Status.Killed {
				fmt.Fprintf(&report, "killed process %d: %s\n", p.PID, strings.Join(p.Command, " "))
			}
			for _, entry := range done.Status.Removed {
				fmt.Fprintf(&report, "removed %s\n", entry)
			}
			fmt.Fprintf(&report, "sandbox %s reset: %d processes killed, %d workspace entries removed\n",
				args[0], len(done.Status.Killed), len(done.Status.Removed))
			_, err = fmt.Fprint(streams.Out, report.String())
			return err
		},
	}
	cmd.Flags().BoolVar(&request.PreserveFiles, "preserve-files", false, "kill the processes but keep the workspace's files")
	return cmd
}

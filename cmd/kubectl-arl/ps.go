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
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/cli-runtime/pkg/printers"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

func newPsCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "ps SANDBOX [-o json|yaml]",
		Short: "List the processes a sandbox's agent tracks (sandboxes/{name}/processes)",
		Example: `  kubectl arl ps my-workspace
  kubectl arl ps my-workspace -o yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var printer printers.ResourcePrinter
			switch output {
			case "":
			case "json":
				printer = &printers.JSONPrinter{}
			case "yaml":
				printer = &printers.YAMLPrinter{}
			default:
				return fmt.Errorf("unknown output format %q: use json or yaml, or leave -o out for a table", output)
			}
			c, err := newARLClient(flags)
			if err != nil {
				return err
			}
			list := &arlv1alpha1.SandboxProcessList{}
			err = c.rest.Get().Namespace(c.namespace).Resource("sandboxes").Name(args[0]).SubResource("processes").
				Do(cmd.Context()).Into(list)
			if err != nil {
				return err
			}
			if printer != nil {
				// The client's decoder drops apiVersion and kind; the printers want them.
				list.SetGroupVersionKind(arlv1alpha1.SchemeGroupVersion.WithKind("SandboxProcessList"))
				return printer.PrintObj(list, streams.Out)
			}
			if len(list.Items) == 0 {
				_, err := fmt.Fprintf(streams.ErrOut, "No processes in sandbox %s.\n", args[0])
				return err
			}
			return printProcesses(streams.Out, list.Items, time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json or yaml; a table when left out")
	return cmd
}

// printProcesses prints processes as a table, kubectl get's way.
func printProcesses(out io.Writer, processes []arlv1alpha1.SandboxProcess, now time.Time) error {
	var rows strings.Builder
	rows.WriteString("PID\tTAG\tSTATE\tEXIT\tAGE\tCOMMAND\n")
	for _, p := range processes {
		tag, exit, age := "<none>", "-", "<unknown>"
		if p.Tag != "" {
			tag = p.Tag
		}
		switch {
		case p.ExitCode != nil && p.Signal != "":
			exit = fmt.Sprintf("%d(%s)", *p.ExitCode, p.Signal)
		case p.ExitCode != nil:
			exit = fmt.Sprint(*p.ExitCode)
		case p.Signal != "":
			exit = p.Signal
		}
		if p.StartTime != nil {
			age = duration.HumanDuration(now.Sub(p.StartTime.Time))
		}
		fmt.Fprintf(&rows, "%d\t%s\t%s\t%s\t%s\t%s\n", p.PID, tag, p.State, exit, age, strings.Join(p.Command, " "))
	}
	w := printers.GetNewTabWriter(out)
	if _, err := io.WriteString(w, rows.String()); err != nil {
		return err
	}
	return w.Flush()
}

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
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// runTaskTTL keeps a run's Task this long after it finished: long enough
// to read it again (kubectl get task), short enough not to pile up.
const runTaskTTL = 600

func newRunCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:     "run SANDBOX -- COMMAND [ARG...]",
		Short:   "Run a command in a sandbox as a Task (tasks/exec): print its output, exit with its code",
		Example: `  kubectl arl run my-workspace -- python3 -c 'print(6*7)'`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newARLClient(flags)
			if err != nil {
				return err
			}
			task := &arlv1alpha1.Task{
				TypeMeta:   metav1.TypeMeta{APIVersion: arlv1alpha1.SchemeGroupVersion.String(), Kind: "Task"},
				ObjectMeta: metav1.ObjectMeta{Name: "run-" + utilrand.String(8)},
				Spec: arlv1alpha1.TaskSpec{SandboxRef: args[0], TTLSecondsAfterFinished: ptr.To[int32](runTaskTTL),
					Steps: []arlv1alpha1.TaskStep{{Name: "run", Type: arlv1alpha1.StepCommand, Command: args[1:]}}},
			}
			body, err := json.Marshal(task)
			if err != nil {
				return err
			}
			done := &arlv1alpha1.Task{}
			err = c.rest.Post().Namespace(c.namespace).Resource("tasks").Name(task.Name).SubResource("exec").
				Body(body).SetHeader("Content-Type", "application/json").Do(cmd.Context()).Into(done)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprint(streams.Out, done.Status.Stdout); err != nil {
				return err
			}
			if _, err := fmt.Fprint(streams.ErrOut, done.Status.Stderr); err != nil {
				return err
			}
			switch {
			case done.Status.ExitCode != nil && *done.Status.ExitCode != 0:
				return exitError{code: int(*done.Status.ExitCode)}
			case done.Status.State != arlv1alpha1.TaskSucceeded:
				why := ""
				if c := meta.FindStatusCondition(done.Status.Conditions, arlv1alpha1.TaskConditionComplete); c != nil {
					why = c.Reason + ": " + c.Message
				}
				return fmt.Errorf("the Task %s %s: %s", done.Name, done.Status.State, why)
			}
			return nil
		},
	}
}

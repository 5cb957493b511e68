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
	"os"

	"github.com/arl-infra/arl/pkg/pool/local/launcher"
)

// runLaunch is standalone mode's sandbox launcher (see package launcher):
// arl-apiserver's local runtime runs it as root; it becomes bubblewrap.
func runLaunch(args []string) int {
	spec, err := launcher.Parse(args)
	if err == nil {
		err = launcher.Exec(spec)
	}
	fmt.Fprintf(os.Stderr, "arl-sidecar launch: %v\n", err)
	return exitFailure
}

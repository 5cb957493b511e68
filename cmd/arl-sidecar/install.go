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
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/sidecar/install"
)

func runInstall(args []string) int {
	fs := newFlagSet("install")
	dest := fs.String("dest", "/.arl/bin/arl-sidecar", "where to copy this binary (atomically)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if err := install.Self(*dest); err != nil {
		klog.ErrorS(err, "Installing failed", "dest", *dest)
		return exitFailure
	}
	klog.InfoS("Installed", "dest", *dest)
	return 0
}

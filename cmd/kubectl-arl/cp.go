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
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

func newCpCommand(flags *genericclioptions.ConfigFlags, streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "cp SRC DEST",
		Short: "Copy files and directories to and from a sandbox (sandboxes/{name}/archive), as kubectl cp does",
		Long: `Copy files and directories to and from a sandbox, as kubectl cp does.
One of SRC and DEST is SANDBOX:PATH, a path in the sandbox (absolute, or
relative to its workspace); the other is a local path.

A directory's contents land in DEST, created if missing. A file copied to a
directory in the sandbox (it exists, or DEST ends with /) or to an existing
local directory keeps its name; otherwise DEST names it. Regular files,
directories and symbolic links travel with their permission bits.`,
		Example: `  kubectl arl cp ./src my-workspace:/workspace/src
  kubectl arl cp main.py my-workspace:/workspace/
  kubectl arl cp my-workspace:/workspace/results ./results
  kubectl arl cp my-workspace:/workspace/out.log .`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, srcLocal, err := parseCopyArg(args[0])
			if err != nil {
				return err
			}
			dst, dstLocal, err := parseCopyArg(args[1])
			if err != nil {
				return err
			}
			if (src == nil) == (dst == nil) {
				return errors.New("one of SRC and DEST must be SANDBOX:PATH, the other a local path")
			}
			c, err := newARLClient(flags)
			if err != nil {
				return err
			}
			if src != nil {
				return c.download(cmd.Context(), *src, dstLocal)
			}
			return c.upload(cmd.Context(), srcLocal, *dst, streams.ErrOut)
		},
	}
}

// remotePath is a path in a sandbox: SANDBOX:PATH.
type remotePath struct {
	sandbox, path string
}

// parseCopyArg tells SANDBOX:PATH from a local path, as kubectl cp does: a
// colon after a name with no slash. "./a:b" and "/a:b" are local.
func parseCopyArg(arg string) (*remotePath, string, error) {
	i := strings.Index(arg, ":")
	if i <= 0 || strings.ContainsRune(arg[:i], '/') || strings.HasPrefix(arg, ".") {
		if arg == "" {
			return nil, "", errors.New("a path is empty")
		}
		return nil, arg, nil
	}
	remote := &remotePath{sandbox: arg[:i], path: arg[i+1:]}
	if remote.path == "" {
		return nil, "", fmt.Errorf("%q: the path in the sandbox is empty (SANDBOX:PATH)", arg)
	}
	return remote, "", nil
}

// remoteType asks sandboxes/{name}/files what a path is (File, Directory,
// Symlink, Other); "" when it cannot tell: no such path, or a server
// without the files API.
func (c *arlClient) remoteType(ctx context.Context, remote remotePath) string {
	stat := &arlv1alpha1.SandboxFileList{}
	err := c.rest.Get().Namespace(c.namespace).Resource("sandboxes").Name(remote.sandbox).SubResource("files").
		Param("path", remote.path).Param("view", "stat").Do(ctx).Into(stat)
	if err != nil || len(stat.Items) != 1 {
		return ""
	}
	return stat.Items[0].Type
}

// errUploadEnded stops packing once the server has answered.
var errUploadEnded = errors.New("the server answered the upload")

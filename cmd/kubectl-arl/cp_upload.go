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
	"archive/tar"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// upload PUTs a tar of local to sandboxes/{name}/archive, built while it is
// sent: a tree of any size costs this process a buffer of memory.
func (c *arlClient) upload(ctx context.Context, local string, remote remotePath, warnings io.Writer) error {
	info, err := os.Stat(local)
	if err != nil {
		return err
	}
	// The archive is extracted into the directory dir; a file is one entry, fileName.
	dir, fileName := remote.path, ""
	switch {
	case info.IsDir():
		// WalkDir does not descend into a symbolic link, even the root.
		if local, err = filepath.EvalSymlinks(local); err != nil {
			return err
		}
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file or a directory", local)
	case strings.HasSuffix(remote.path, "/") || c.remoteType(ctx, remote) == "Directory":
		fileName = filepath.Base(local)
	default:
		dir, fileName = path.Dir(remote.path), path.Base(remote.path)
	}

	body, bodyWriter := io.Pipe()
	packed := make(chan error, 1)
	go func() {
		var err error
		if info.IsDir() {
			err = writeTreeArchive(bodyWriter, local, warnings)
		} else {
			err = writeFileArchive(bodyWriter, local, fileName)
		}
		_ = bodyWriter.CloseWithError(err) // nil: the body ends
		packed <- err
	}()
	// No retries: the body is read once.
	err = c.rest.Put().Namespace(c.namespace).Resource("sandboxes").Name(remote.sandbox).SubResource("archive").
		Param("path", dir).SetHeader("Content-Type", "application/x-tar").Body(body).MaxRetries(0).
		Do(ctx).Error()
	// A server that refused the upload early stopped reading: unblock the packing.
	_ = body.CloseWithError(errUploadEnded)
	if packErr := <-packed; packErr != nil && !errors.Is(packErr, errUploadEnded) && !errors.Is(packErr, io.ErrClosedPipe) {
		return packErr
	}
	return err
}

// archiveBufferBytes batches the tar's 512-byte headers into fewer writes to the pipe.
const archiveBufferBytes = 64 << 10

// writeFileArchive writes a tar of one file, named name.
func writeFileArchive(w io.Writer, file, name string) error {
	info, err := os.Stat(file)
	if err != nil {
		return err
	}
	buffered := bufio.NewWriterSize(w, archiveBufferBytes)
	tw := tar.NewWriter(buffered)
	if err := addToArchive(tw, file, name, info); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return buffered.Flush()
}

// writeTreeArchive writes a tar of what the directory root holds, named
// relative to it. Symbolic links are sent as links, never followed;
// sockets, FIFOs and devices are skipped with a warning.
func writeTreeArchive(w io.Writer, root string, warnings io.Writer) error {
	buffered := bufio.NewWriterSize(w, archiveBufferBytes)
	tw := tar.NewWriter(buffered)
	err := filepath.WalkDir(root, func(file string, entry fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if file == root {
			return nil
		}
		info, err := entry.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, file)
		if err != nil {
			return err
		}
		if mode := info.Mode(); !mode.IsRegular() && !mode.IsDir() && mode&fs.ModeSymlink == 0 {
			_, err := fmt.Fprintf(warnings, "warning: skipping %s: not a regular file, directory or symbolic link\n", file)
			return err
		}
		return addToArchive(tw, file, filepath.ToSlash(rel), info)
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return buffered.Flush()
}

// addToArchive writes one regular file, directory or symbolic link.
func addToArchive(tw *tar.Writer, file, name string, info fs.FileInfo) error {
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(file); err != nil {
			return err
		}
	}
	header, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	header.Name = name
	if info.IsDir() {
		header.Name += "/"
	}
	// Local owners mean nothing in the sandbox: its agent decides who owns
	// what it extracts.
	header.Uid, header.Gid, header.Uname, header.Gname = 0, 0, "", ""
	header.AccessTime, header.ChangeTime = time.Time{}, time.Time{}
	if err := tw.WriteHeader(header); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.CopyN(tw, f, header.Size); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s shrank while it was copied", file)
		}
		return err
	}
	return nil
}

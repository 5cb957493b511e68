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
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// download GETs a tar of remote and extracts it locally: a file to local
// (or into it, if it is a directory), a directory's contents into local.
func (c *arlClient) download(ctx context.Context, remote remotePath, local string) error {
	remoteType := c.remoteType(ctx, remote)
	body, err := c.rest.Get().Namespace(c.namespace).Resource("sandboxes").Name(remote.sandbox).SubResource("archive").
		Param("path", remote.path).Stream(ctx)
	if err != nil {
		return err
	}
	defer body.Close()
	archive := tar.NewReader(body)
	first, err := archive.Next()
	switch {
	case errors.Is(err, io.EOF):
		first = nil // an empty directory
	case err != nil:
		return fmt.Errorf("reading the archive of %s: %w", remote.path, err)
	}
	name := path.Base(path.Clean(remote.path))
	// Without the files API, a file is told by its archive: a single
	// regular entry named as the path.
	isFile := remoteType == "File" ||
		(remoteType == "" && first != nil && first.Typeflag == tar.TypeReg && first.Name == name)
	if !isFile {
		return extractTree(archive, first, local)
	}
	if first == nil || first.Typeflag != tar.TypeReg {
		return fmt.Errorf("the archive of the file %s holds no regular file", remote.path)
	}
	target := local
	if info, err := os.Stat(local); err == nil && info.IsDir() {
		if name == "/" || name == "." || name == ".." {
			return fmt.Errorf("%s names no file", remote.path)
		}
		target = filepath.Join(local, name)
	}
	if err := extractFile(archive, first, target); err != nil {
		return err
	}
	if _, err := archive.Next(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("the archive of the file %s holds more than one entry", remote.path)
	}
	return nil
}

// extractFile writes the regular file at the archive's current entry to
// target, a path the user named.
func extractFile(archive *tar.Reader, header *tar.Header, target string) error {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, archive); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(fs.FileMode(header.Mode).Perm()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// extractTree extracts an archive from a sandbox into the directory dest,
// created if missing, starting with its entry first (nil: none). The
// sandbox is not trusted: every entry is written through an os.Root of
// dest, so none lands outside it, by its name ("..", absolute) or through
// a symbolic link; an entry that is not a regular file, a directory or a
// symbolic link ends the copy.
func extractTree(archive *tar.Reader, first *tar.Header, dest string) error {
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dest)
	if err != nil {
		return err
	}
	defer root.Close()
	// Directories get their modes last: a read-only one would refuse its entries.
	dirModes := map[string]fs.FileMode{}
	var dirs []string
	for header := first; header != nil; {
		name, err := entryName(header.Name)
		if err != nil {
			return err
		}
		if err := extractEntry(root, archive, header, name); err != nil {
			return fmt.Errorf("extracting %q into %s: %w", header.Name, dest, err)
		}
		if header.Typeflag == tar.TypeDir && name != "." {
			if _, seen := dirModes[name]; !seen {
				dirs = append(dirs, name)
			}
			dirModes[name] = fs.FileMode(header.Mode).Perm()
		}
		if header, err = archive.Next(); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading the archive: %w", err)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := chmodInRoot(root, dirs[i], dirModes[dirs[i]]); err != nil {
			return err
		}
	}
	return nil
}

// entryName checks an archive entry's name and cleans it: relative, with
// no ".." element.
func entryName(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("refusing an archive entry with no name")
	case strings.HasPrefix(name, "/"):
		return "", fmt.Errorf("refusing the archive entry %q: an absolute name", name)
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("refusing the archive entry %q: a NUL byte in its name", name)
	}
	for _, element := range strings.Split(name, "/") {
		if element == ".." {
			return "", fmt.Errorf("refusing the archive entry %q: a .. element", name)
		}
	}
	return path.Clean(name), nil
}

// extractEntry writes one entry, named name, beneath root.
func extractEntry(root *os.Root, archive *tar.Reader, header *tar.Header, name string) error {
	switch header.Typeflag {
	case tar.TypeDir:
		// Owner-only until its mode is set, after its entries.
		return root.MkdirAll(name, 0o700)
	case tar.TypeReg:
		if err := replaceable(root, name); err != nil {
			return err
		}
		// O_EXCL: the name was just cleared, so nothing is written through a link.
		f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, archive); err != nil {
			f.Close()
			return err
		}
		if err := f.Chmod(fs.FileMode(header.Mode).Perm()); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	case tar.TypeSymlink:
		if err := replaceable(root, name); err != nil {
			return err
		}
		// The link itself is harmless: the root refuses to write through
		// one that leads outside it.
		return root.Symlink(header.Linkname, name)
	default:
		return fmt.Errorf("refused: type %q is not a regular file, a directory or a symbolic link", header.Typeflag)
	}
}

// replaceable makes way for a new file or link at name: its parent exists,
// and what was there (not a directory) is removed.
func replaceable(root *os.Root, name string) error {
	if parent := path.Dir(name); parent != "." {
		if err := root.MkdirAll(parent, 0o755); err != nil {
			return err
		}
	}
	info, err := root.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case info.IsDir():
		return errors.New("a directory is in the way")
	}
	return root.Remove(name)
}

// chmodInRoot sets a directory's mode through an open descriptor, not a
// path that could be swapped.
func chmodInRoot(root *os.Root, name string, mode fs.FileMode) error {
	dir, err := root.Open(name)
	if err != nil {
		return err
	}
	defer dir.Close()
	return dir.Chmod(mode)
}

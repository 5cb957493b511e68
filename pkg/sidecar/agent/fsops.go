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

package agent

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"unicode/utf8"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/klog/v2"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

const (
	// Bounds of ListDir.
	maxListDepth   = 64
	maxListEntries = 10000
	// defaultDirMode is MakeDir's default, and the mode of the missing
	// directories MakeDir and UnpackArchive make on the way.
	defaultDirMode = 0o755
)

// Stat describes a path, a final symbolic link itself; see agent.proto.
func (a *Agent) Stat(_ context.Context, req *agentv1.StatRequest) (*agentv1.FileStat, error) {
	path, err := a.paths.forLstat("", req.GetPath())
	if err != nil {
		return nil, err
	}
	st, err := os.Lstat(path)
	if err != nil {
		return nil, fsStatus("describing", path, err)
	}
	s := statOfInfo(path, st)
	if s.GetType() == agentv1.FileStat_SYMLINK {
		target, err := os.Readlink(path)
		if err != nil {
			return nil, fsStatus("reading the link", path, err)
		}
		// A protobuf string must be UTF-8; the target is a description.
		s.LinkTarget = strings.ToValidUTF8(target, "\uFFFD")
	}
	return s, nil
}

// ListDir lists a directory breadth first, never following a symbolic link
// below it; see agent.proto. Directories are opened beneath the listed one
// with symbolic links refused (openBeneath), so a directory swapped for a
// link mid-listing is not listed through. A truncated listing holds the
// shallower levels first; the entries it holds are then sorted.
func (a *Agent) ListDir(ctx context.Context, req *agentv1.ListDirRequest) (*agentv1.ListDirResponse, error) {
	depth, limit := int(req.GetDepth()), int(req.GetLimit())
	if depth < 0 || depth > maxListDepth {
		return nil, status.Errorf(codes.InvalidArgument, "depth %d is not between 0 (1 level) and %d", depth, maxListDepth)
	}
	if limit < 0 {
		return nil, status.Errorf(codes.InvalidArgument, "limit %d is negative", limit)
	}
	depth = max(depth, 1)
	if limit == 0 || limit > maxListEntries {
		limit = maxListEntries
	}
	dirPath, err := a.paths.forRead("", req.GetPath())
	if err != nil {
		return nil, err
	}
	// The listed directory itself may be a symbolic link: forRead checked
	// where it leads. O_NONBLOCK: a FIFO must be refused, not waited on.
	root, err := unix.Open(dirPath, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fsStatus("listing", dirPath, &fs.PathError{Op: "open", Path: dirPath, Err: err})
	}
	defer unix.Close(root)
	l := &lister{root: root, rootPath: dirPath, limit: limit, resp: &agentv1.ListDirResponse{}}
	level := []string{"."}
	for d := 1; d <= depth && len(level) > 0 && !l.resp.GetTruncated(); d++ {
		var next []string
		for _, rel := range level {
			if err := ctx.Err(); err != nil {
				return nil, status.FromContextError(err).Err()
			}
			sub, err := l.list(rel, d < depth)
			if err != nil {
				return nil, err
			}
			next = append(next, sub...)
			if l.resp.GetTruncated() {
				break
			}
		}
		level = next
	}
	slices.SortFunc(l.resp.Entries, func(x, y *agentv1.FileStat) int { return strings.Compare(x.GetPath(), y.GetPath()) })
	klog.V(2).InfoS("Listed directory", "path", dirPath, "depth", depth, "entries", len(l.resp.GetEntries()), "truncated", l.resp.GetTruncated())
	return l.resp, nil
}

type lister struct {
	root     int
	rootPath string
	limit    int
	resp     *agentv1.ListDirResponse
}

// list adds the entries of rel (relative to the root) and returns its
// subdirectories when descend. A subdirectory that cannot be read (gone,
// swapped for a link, not permitted) is listed without its contents.
func (l *lister) list(rel string, descend bool) ([]string, error) {
	fd, err := openBeneath(l.root, rel, unix.O_RDONLY|unix.O_DIRECTORY, noSymlinksBeneath)
	if err != nil {
		if rel == "." {
			return nil, fsStatus("listing", l.rootPath, err)
		}
		klog.V(2).InfoS("Not listing a directory that cannot be opened", "path", filepath.Join(l.rootPath, rel), "err", err)
		return nil, nil
	}
	dir := os.NewFile(uintptr(fd), filepath.Join(l.rootPath, rel))
	defer dir.Close()
	var subdirs []string
	for {
		names, err := dir.Readdirnames(256)
		for _, name := range names {
			if !utf8.ValidString(name) {
				// A protobuf string cannot carry it (the whole answer
				// would fail), and a replaced name would name nothing.
				klog.V(2).InfoS("Not listing a name that is not UTF-8", "dir", filepath.Join(l.rootPath, rel), "name", []byte(name))
				continue
			}
			if len(l.resp.Entries) == l.limit {
				l.resp.Truncated = true
				return subdirs, nil
			}
			var st unix.Stat_t
			if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				continue // removed since it was read
			}
			childRel := path.Join(rel, name)
			e := statOfUnix(filepath.Join(l.rootPath, childRel), &st)
			if e.GetType() == agentv1.FileStat_SYMLINK {
				target, _ := readlinkAt(fd, name)
				e.LinkTarget = strings.ToValidUTF8(target, "\uFFFD")
			}
			l.resp.Entries = append(l.resp.Entries, e)
			if descend && e.GetType() == agentv1.FileStat_DIRECTORY {
				subdirs = append(subdirs, childRel)
			}
		}
		if errors.Is(err, io.EOF) {
			return subdirs, nil
		}
		if err != nil {
			if rel == "." {
				return nil, fsStatus("listing", l.rootPath, err)
			}
			return subdirs, nil
		}
	}
}

// Remove removes a file, a link or a directory; see agent.proto.
func (a *Agent) Remove(_ context.Context, req *agentv1.RemoveRequest) (*agentv1.RemoveResponse, error) {
	path, err := a.paths.forLstat("", req.GetPath())
	if err != nil {
		return nil, err
	}
	if err := a.paths.checkRemovable(path); err != nil {
		return nil, err
	}
	st, err := os.Lstat(path)
	if err != nil {
		return nil, fsStatus("removing", path, err)
	}
	if st.IsDir() && req.GetRecursive() {
		// RemoveAll removes a link it meets, never what it points to.
		err = os.RemoveAll(path)
		if err != nil && errors.Is(err, fs.ErrPermission) {
			// Read-only directories are removed once made writable.
			makeWritable(path)
			err = os.RemoveAll(path)
		}
	} else {
		// A directory that is not empty: ENOTEMPTY, FailedPrecondition.
		err = os.Remove(path)
	}
	if err != nil {
		return nil, fsStatus("removing", path, err)
	}
	klog.V(2).InfoS("Removed", "path", path, "recursive", req.GetRecursive())
	return &agentv1.RemoveResponse{Path: path}, nil
}

// MakeDir creates a directory; see agent.proto.
func (a *Agent) MakeDir(_ context.Context, req *agentv1.MakeDirRequest) (*agentv1.FileStat, error) {
	path, err := a.paths.forLstat("", req.GetPath())
	if err != nil {
		return nil, err
	}
	mode := req.GetMode()
	if mode&^0o7777 != 0 {
		return nil, status.Errorf(codes.InvalidArgument, "mode %#o has bits other than permissions (07777)", mode)
	}
	if mode == 0 {
		mode = defaultDirMode
	}
	if req.GetParents() {
		if err := os.MkdirAll(filepath.Dir(path), defaultDirMode); err != nil {
			return nil, fsStatus("creating the parent directories of", path, err)
		}
	}
	err = os.Mkdir(path, 0o700)
	created := err == nil
	switch {
	case created:
		// Explicit chmod: the umask must not change the requested mode.
		if err := chmodDir(path, mode); err != nil {
			return nil, fsStatus("setting the mode of", path, err)
		}
	case req.GetParents() && errors.Is(err, fs.ErrExist):
		// Only a directory will do, not a link to one (which may lead
		// outside the allowed roots).
		if st, lerr := os.Lstat(path); lerr != nil || !st.IsDir() {
			return nil, fsStatus("creating", path, err)
		}
	default:
		return nil, fsStatus("creating", path, err)
	}
	st, err := os.Lstat(path)
	if err != nil {
		return nil, fsStatus("describing", path, err)
	}
	klog.V(2).InfoS("Made directory", "path", path, "mode", mode, "created", created)
	return statOfInfo(path, st), nil
}

// chmodDir sets a directory's mode, refusing to follow a link to another.
func chmodDir(path string, mode uint32) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, mode); err != nil {
		return &fs.PathError{Op: "chmod", Path: path, Err: err}
	}
	return nil
}

// forLstat returns the absolute path of p (relative to base) for a call
// that acts on the path itself and never follows a final symbolic link
// (Stat, Remove, MakeDir): like forWrite, only its directory must resolve
// inside the allowed roots. Unlike forWrite, an allowed root itself, whose
// directory is outside them, is accepted.
func (pp *pathPolicy) forLstat(base, p string) (string, error) {
	path, err := lexicalPath(pp.workspace, pp.roots, base, p)
	if err != nil {
		return "", status.Error(codes.InvalidArgument, err.Error())
	}
	if slices.Contains(pp.roots, path) {
		return path, nil
	}
	return pp.forWrite(base, p)
}

// checkRemovable refuses (FailedPrecondition) to remove "/", an allowed
// root, the workspace, or a directory holding one of them, whether path
// names it directly or through symbolic links in its directory.
func (pp *pathPolicy) checkRemovable(path string) error {
	targets := []string{path}
	if dir, err := realPrefix(filepath.Dir(path)); err == nil {
		targets = append(targets, filepath.Join(dir, filepath.Base(path)))
	}
	for _, kept := range append([]string{pp.workspace}, pp.roots...) {
		forms := []string{kept}
		if real, err := realPrefix(kept); err == nil {
			forms = append(forms, real)
		}
		for _, t := range targets {
			for _, k := range forms {
				if within(k, t) {
					return status.Errorf(codes.FailedPrecondition, "%s is or holds %s (the workspace or an allowed root): it is never removed", path, kept)
				}
			}
		}
	}
	return nil
}

// statOfInfo describes what os.Stat, os.Lstat or File.Stat found.
func statOfInfo(path string, fi fs.FileInfo) *agentv1.FileStat {
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		return newFileStat(path, sys.Mode, fi.Size(), fi.ModTime().UnixNano())
	}
	mode := uint32(fi.Mode().Perm())
	switch {
	case fi.Mode().IsRegular():
		mode |= unix.S_IFREG
	case fi.IsDir():
		mode |= unix.S_IFDIR
	case fi.Mode()&fs.ModeSymlink != 0:
		mode |= unix.S_IFLNK
	}
	return newFileStat(path, mode, fi.Size(), fi.ModTime().UnixNano())
}

// statOfUnix describes what fstatat(2) found.
func statOfUnix(path string, st *unix.Stat_t) *agentv1.FileStat {
	return newFileStat(path, st.Mode, st.Size, st.Mtim.Nano())
}

// newFileStat builds a FileStat from a stat(2) st_mode.
func newFileStat(path string, stMode uint32, size, modTimeNanos int64) *agentv1.FileStat {
	t := agentv1.FileStat_OTHER
	switch stMode & unix.S_IFMT {
	case unix.S_IFREG:
		t = agentv1.FileStat_FILE
	case unix.S_IFDIR:
		t = agentv1.FileStat_DIRECTORY
	case unix.S_IFLNK:
		t = agentv1.FileStat_SYMLINK
	}
	return &agentv1.FileStat{Path: path, Type: t, Size: size, Mode: stMode & 0o7777, ModTimeNanos: modTimeNanos}
}

// readlinkAt reads the target of the link name in dirfd.
func readlinkAt(dirfd int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

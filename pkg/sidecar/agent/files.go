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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/klog/v2"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

const defaultFileMode = 0o644

// UpdateFiles writes files atomically; see agent.proto. Every path is
// checked before anything is written, so a refused path writes nothing.
func (a *Agent) UpdateFiles(ctx context.Context, req *agentv1.FileRequest) (*agentv1.FileResponse, error) {
	if len(req.GetFiles()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "files is empty")
	}
	paths := make([]string, len(req.GetFiles()))
	for i, f := range req.GetFiles() {
		p, err := a.paths.forWrite(req.GetBasePath(), f.GetPath())
		if err != nil {
			return nil, annotate(err, fmt.Sprintf("files[%d]", i))
		}
		if f.GetMode()&^0o7777 != 0 {
			return nil, status.Errorf(codes.InvalidArgument, "files[%d]: mode %#o has bits other than permissions (07777)", i, f.GetMode())
		}
		paths[i] = p
	}
	resp := &agentv1.FileResponse{Files: make([]*agentv1.FileInfo, 0, len(paths))}
	for i, f := range req.GetFiles() {
		if err := ctx.Err(); err != nil {
			return nil, status.FromContextError(err).Err()
		}
		info, err := writeFileAtomic(paths[i], f.GetContent(), f.GetMode(), req.GetCreateParents())
		if err != nil {
			return nil, annotate(err, fmt.Sprintf("files[%d] (%d written before it)", i, i))
		}
		resp.Files = append(resp.Files, info)
	}
	klog.V(2).InfoS("Updated files", "count", len(resp.Files))
	return resp, nil
}

// writeFileAtomic writes content to a temporary file beside path and renames
// it over path, so that readers see the old or the new content, never a
// part.
func writeFileAtomic(path string, content []byte, mode uint32, createParents bool) (*agentv1.FileInfo, error) {
	return writeAtomic(path, mode, createParents, bytes.NewReader(content))
}

// writeAtomic is writeFileAtomic reading the content from r, which may be a
// stream of any length (WriteFile): an error of r that is a gRPC status
// (the call was cancelled, a bad message) is returned as it is, and the
// temporary file is removed. It does not fsync: a sandbox does not outlive
// its node's crash.
func writeAtomic(path string, mode uint32, createParents bool, r io.Reader) (*agentv1.FileInfo, error) {
	dir := filepath.Dir(path)
	if createParents {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fsStatus("creating the parent directories of", path, err)
		}
	}
	uid, gid := -1, -1
	if mode == 0 {
		mode = defaultFileMode
		// Overwriting keeps the file's mode (a script stays executable)
		// and owner.
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			mode = st.Mode & 0o7777
			uid, gid = int(st.Uid), int(st.Gid)
		}
	}
	name := filepath.Base(path)
	if len(name) > 64 {
		name = name[:64]
	}
	tmp, err := os.CreateTemp(dir, "."+name+".arl-*")
	if err != nil {
		return nil, fsStatus("creating a temporary file for", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	size, err := io.Copy(tmp, r)
	if err != nil {
		if _, isStatus := status.FromError(err); isStatus {
			return nil, err
		}
		return nil, fsStatus("writing", path, err)
	}
	// Explicit chmod: the umask must not change the requested mode.
	if err := fchmod(tmp, mode); err != nil {
		return nil, fsStatus("setting the mode of", path, err)
	}
	if uid >= 0 && (uid != os.Getuid() || gid != os.Getgid()) {
		if err := tmp.Chown(uid, gid); err != nil {
			klog.V(2).InfoS("Could not keep the owner of an overwritten file", "path", path, "err", err)
		}
	}
	if err := tmp.Close(); err != nil {
		return nil, fsStatus("writing", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fsStatus("renaming into", path, err)
	}
	ok = true
	return &agentv1.FileInfo{Path: path, Size: size, Mode: mode}, nil
}

func fchmod(f *os.File, mode uint32) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	if err := rc.Control(func(fd uintptr) { cerr = unix.Fchmod(int(fd), mode) }); err != nil {
		return err
	}
	return cerr
}

// ReadFile returns (part of) a regular file; see agent.proto.
func (a *Agent) ReadFile(ctx context.Context, req *agentv1.ReadFileRequest) (*agentv1.ReadFileResponse, error) {
	if req.GetOffset() < 0 || req.GetMaxBytes() < 0 {
		return nil, status.Error(codes.InvalidArgument, "offset and max_bytes must not be negative")
	}
	path, err := a.paths.forRead("", req.GetPath())
	if err != nil {
		return nil, err
	}
	f, st, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	limit := int64(MaxReadBytes)
	if m := req.GetMaxBytes(); m > 0 && m < limit {
		limit = m
	}
	n := min(max(st.Size()-req.GetOffset(), 0), limit)
	buf := make([]byte, n)
	got, err := f.ReadAt(buf, req.GetOffset())
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fsStatus("reading", path, err)
	}
	var sys syscall.Stat_t
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		sys = *s
	}
	return &agentv1.ReadFileResponse{
		Path:      path,
		Content:   buf[:got],
		Size:      st.Size(),
		Mode:      sys.Mode & 0o7777,
		Truncated: req.GetOffset()+int64(got) < st.Size(),
	}, nil
}

func notRegular(path string, st fs.FileInfo) error {
	return status.Errorf(codes.FailedPrecondition, "%s is not a regular file (%v)", path, st.Mode().Type())
}

// fsStatus maps a filesystem error to the gRPC code a client can act on.
func fsStatus(op, path string, err error) error {
	code := codes.Internal
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case unix.ENOENT:
			code = codes.NotFound
		case unix.EACCES, unix.EPERM:
			code = codes.PermissionDenied
		case unix.EISDIR, unix.ENOTDIR, unix.EROFS, unix.ENOTEMPTY, unix.EBUSY, unix.ELOOP, unix.ENAMETOOLONG, unix.EEXIST:
			code = codes.FailedPrecondition
		case unix.ENOSPC, unix.EDQUOT, unix.EFBIG:
			code = codes.ResourceExhausted
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		code = codes.NotFound
	}
	msg := err.Error()
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = pe.Err.Error()
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		msg = le.Err.Error()
	}
	return status.Errorf(code, "%s %s: %s", op, path, msg)
}

// annotate prefixes a status error's message with where it happened.
func annotate(err error, where string) error {
	s, ok := status.FromError(err)
	if !ok {
		return status.Errorf(codes.Internal, "%s: %v", where, err)
	}
	return status.Errorf(s.Code(), "%s: %s", where, s.Message())
}

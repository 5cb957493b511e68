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
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/klog/v2"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// Resolve flags of openBeneath.
const (
	// beneath follows symbolic links while they stay beneath the directory.
	beneath = unix.RESOLVE_BENEATH
	// noSymlinksBeneath refuses any symbolic link, the last element's too.
	noSymlinksBeneath = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS
)

// openBeneath opens name relative to the directory dirfd with openat2(2),
// which the kernel resolves atomically: with RESOLVE_BENEATH nothing outside
// dirfd is reached, whatever symbolic link or ".." the path meets (EXDEV),
// and with RESOLVE_NO_SYMLINKS no link is followed at all (ELOOP). A file
// swapped for a link between a walk's stat and its open is therefore never
// read through the link.
func openBeneath(dirfd int, name string, flags int, resolve uint64) (int, error) {
	how := &unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Resolve: resolve}
	for attempt := 0; ; attempt++ {
		fd, err := unix.Openat2(dirfd, name, how)
		// EAGAIN: a concurrent rename made the kernel unsure the path
		// stayed beneath; the lookup is safe to retry.
		if (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) && attempt < 16 {
			continue
		}
		if err != nil {
			return -1, &fs.PathError{Op: "openat2", Path: name, Err: err}
		}
		return fd, nil
	}
}

// vanished reports an open that failed because the entry was removed or
// replaced (by a link, or a directory by a file) since it was listed.
func vanished(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR)
}

// PackArchive streams a regular file or a directory tree as a tar archive;
// see agent.proto.
func (a *Agent) PackArchive(req *agentv1.PackArchiveRequest, stream agentv1.AgentService_PackArchiveServer) error {
	root, err := a.paths.forRead("", req.GetPath())
	if err != nil {
		return err
	}
	// O_NONBLOCK: a FIFO must be refused, not waited on.
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fsStatus("opening", root, &fs.PathError{Op: "open", Path: root, Err: err})
	}
	f := os.NewFile(uintptr(fd), root)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fsStatus("describing", root, err)
	}
	out := &chunkWriter{send: func(b []byte) error { return stream.Send(&agentv1.ArchiveChunk{Content: b}) }}
	p := &packer{ctx: stream.Context(), root: root, tw: tar.NewWriter(out), buf: make([]byte, ChunkBytes)}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		err = p.file(f, &st, filepath.Base(root))
	case unix.S_IFDIR:
		err = p.dir(f, fd, "")
	default:
		return status.Errorf(codes.FailedPrecondition, "%s is neither a regular file nor a directory", root)
	}
	if err == nil {
		err = p.tw.Close() // the end-of-archive blocks
	}
	if err == nil {
		err = out.flush()
	}
	if err != nil {
		return err
	}
	klog.V(2).InfoS("Packed archive", "path", root, "entries", p.entries, "bytes", p.bytes)
	return nil
}

// packer writes a tree to a tar stream, one directory descriptor per level
// of the walk, every entry opened beneath its directory without links.
type packer struct {
	ctx            context.Context
	root           string
	tw             *tar.Writer
	buf            []byte
	entries, bytes int64
}

func (p *packer) pathOf(entry string) string { return filepath.Join(p.root, entry) }

// dir packs the entries of the open directory d (descriptor fd), named rel
// in the archive, in name order.
func (p *packer) dir(d *os.File, fd int, rel string) error {
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fsStatus("reading the directory", p.pathOf(rel), err)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := p.ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		entry := path.Join(rel, name)
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fsStatus("describing", p.pathOf(entry), err)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			err = p.subdir(fd, name, entry)
		case unix.S_IFREG:
			err = p.regular(fd, name, entry)
		case unix.S_IFLNK:
			err = p.symlink(fd, name, entry, &st)
		default:
			klog.V(2).InfoS("Not packing a socket, FIFO or device", "path", p.pathOf(entry))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *packer) subdir(dirfd int, name, entry string) error {
	fd, err := openBeneath(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, noSymlinksBeneath)
	if err != nil {
		if vanished(err) {
			return nil
		}
		return fsStatus("opening", p.pathOf(entry), err)
	}
	d := os.NewFile(uintptr(fd), p.pathOf(entry))
	defer d.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fsStatus("describing", p.pathOf(entry), err)
	}
	if err := p.tw.WriteHeader(tarHeader(tar.TypeDir, entry+"/", &st)); err != nil {
		return err
	}
	p.entries++
	return p.dir(d, fd, entry)
}

func (p *packer) regular(dirfd int, name, entry string) error {
	// O_NONBLOCK, O_NOCTTY: what replaced the file may be a FIFO or a
	// terminal, and is then skipped below.
	fd, err := openBeneath(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY, noSymlinksBeneath)
	if err != nil {
		if vanished(err) {
			klog.V(2).InfoS("Not packing a file removed or replaced by a link", "path", p.pathOf(entry))
			return nil
		}
		return fsStatus("opening", p.pathOf(entry), err)
	}
	f := os.NewFile(uintptr(fd), p.pathOf(entry))
	defer f.Close()
	// The header describes what was opened, not what was listed.
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fsStatus("describing", p.pathOf(entry), err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil
	}
	return p.file(f, &st, entry)
}

// file writes one regular file, exactly the size its header declares: a
// file that grows while it is read is cut there, one that shrinks is
// padded with zeros, so that the archive stays valid.
func (p *packer) file(f *os.File, st *unix.Stat_t, entry string) error {
	hdr := tarHeader(tar.TypeReg, entry, st)
	hdr.Size = st.Size
	if err := p.tw.WriteHeader(hdr); err != nil {
		return err
	}
	remaining := st.Size
	for remaining > 0 {
		n, err := f.Read(p.buf[:min(int64(len(p.buf)), remaining)])
		if n > 0 {
			if _, werr := p.tw.Write(p.buf[:n]); werr != nil {
				return werr
			}
			remaining -= int64(n)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fsStatus("reading", f.Name(), err)
		}
	}
	if remaining > 0 {
		klog.V(2).InfoS("A file shrank while packed; padded with zeros", "path", f.Name(), "missing", remaining)
		clear(p.buf)
		for remaining > 0 {
			n := min(int64(len(p.buf)), remaining)
			if _, err := p.tw.Write(p.buf[:n]); err != nil {
				return err
			}
			remaining -= n
		}
	}
	p.entries++
	p.bytes += st.Size
	return nil
}

func (p *packer) symlink(dirfd int, name, entry string, st *unix.Stat_t) error {
	target, err := readlinkAt(dirfd, name)
	if err != nil {
		if vanished(err) || errors.Is(err, unix.EINVAL) { // EINVAL: no longer a link
			return nil
		}
		return fsStatus("reading the link", p.pathOf(entry), err)
	}
	hdr := tarHeader(tar.TypeSymlink, entry, st)
	hdr.Linkname = target
	if err := p.tw.WriteHeader(hdr); err != nil {
		return err
	}
	p.entries++
	return nil
}

// tarHeader keeps the permission bits (setuid, setgid, sticky included),
// the owner's ids and the modification time, to the second.
func tarHeader(typ byte, name string, st *unix.Stat_t) *tar.Header {
	return &tar.Header{
		Typeflag: typ,
		Name:     name,
		Mode:     int64(st.Mode & 0o7777),
		Uid:      int(st.Uid),
		Gid:      int(st.Gid),
		ModTime:  time.Unix(st.Mtim.Sec, 0),
	}
}

// chunkWriter sends what is written to it in messages of ChunkBytes.
type chunkWriter struct {
	send func([]byte) error
	buf  []byte
}

func (w *chunkWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		if w.buf == nil {
			// A buffer per message: gRPC may still hold a sent one.
			w.buf = make([]byte, 0, ChunkBytes)
		}
		n := copy(w.buf[len(w.buf):cap(w.buf)], b)
		w.buf = w.buf[:len(w.buf)+n]
		b = b[n:]
		written += n
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.send(w.buf)
	w.buf = nil
	return err
}

// keptModeBits are the mode bits an extracted entry keeps: setuid and
// setgid are dropped, so that an archive cannot plant a privileged program.
const keptModeBits = 0o1777

// maxDeferredDirs bounds the directories whose mode and time an extraction
// sets at its end, after their contents (which change the time, and which a
// read-only mode would forbid). Past it a directory gets its mode at once
// and keeps the time of its extraction.
const maxDeferredDirs = 65536

// UnpackArchive extracts a tar stream into a directory; see agent.proto.
// Every entry is created relative to a descriptor of the target directory,
// its parent opened with RESOLVE_BENEATH: no link, whether an earlier entry
// made it or it was there before, can carry an entry outside the target.
func (a *Agent) UnpackArchive(stream agentv1.AgentService_UnpackArchiveServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "the stream ended before its first message")
	}
	if err != nil {
		return err
	}
	dir, err := a.paths.forLstat("", first.GetPath())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, defaultDirMode); err != nil {
		return fsStatus("creating", dir, err)
	}
	// The directory may be a link (the workspace may be one): where it
	// leads must be inside the allowed roots too.
	if _, err := a.paths.forRead("", dir); err != nil {
		return err
	}
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fsStatus("opening", dir, &fs.PathError{Op: "open", Path: dir, Err: err})
	}
	defer unix.Close(root)
	content := &streamReader{pending: first.GetContent(), next: func() ([]byte, error) {
		m, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		if m.GetPath() != "" {
			return nil, status.Error(codes.InvalidArgument, "a message other than the first carries a path")
		}
		return m.GetContent(), nil
	}}
	x := &extractor{root: root, rootPath: dir, buf: make([]byte, ChunkBytes)}
	err = x.extract(stream.Context(), tar.NewReader(content))
	x.finish()
	if err != nil {
		klog.V(2).InfoS("Archive extraction failed", "path", dir, "entries", x.entries, "err", err)
		return err
	}
	klog.V(2).InfoS("Unpacked archive", "path", dir, "entries", x.entries, "bytes", x.bytes)
	return stream.SendAndClose(&agentv1.UnpackArchiveResponse{Path: dir, Entries: x.entries, Bytes: x.bytes})
}

type extractor struct {
	root           int // O_PATH descriptor of the target directory
	rootPath       string
	buf            []byte
	dirs           []deferredDir
	entries, bytes int64
}

type deferredDir struct {
	rel   string
	mode  uint32
	mtime time.Time
}

func (x *extractor) extract(ctx context.Context, tr *tar.Reader) error {
	for {
		if err := ctx.Err(); err != nil {
			return status.FromContextError(err).Err()
		}
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return archiveError(err, "reading the archive")
		}
		if err := x.entry(hdr, tr); err != nil {
			return err
		}
	}
}

// archiveError passes the stream's own status through; anything else is a
// malformed or truncated archive.
func archiveError(err error, where string) error {
	if _, ok := status.FromError(err); ok {
		return annotate(err, where)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return status.Errorf(codes.InvalidArgument, "%s: the archive is truncated", where)
	}
	return status.Errorf(codes.InvalidArgument, "%s: %v", where, err)
}

func (x *extractor) entry(hdr *tar.Header, content io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil // attributes for what follows (git archive's commit id), not an entry
	}
	rel, err := entryPath(hdr.Name)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "entry %q: %v", hdr.Name, err)
	}
	switch {
	case hdr.Typeflag == tar.TypeDir && rel == ".":
		return nil // the target itself
	case rel == ".":
		return status.Errorf(codes.InvalidArgument, "entry %q names the target directory itself", hdr.Name)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		err = x.mkdir(rel, hdr)
	case tar.TypeReg:
		err = x.file(rel, hdr, content)
	case tar.TypeSymlink:
		err = x.symlink(rel, hdr)
	default:
		return status.Errorf(codes.InvalidArgument, "entry %q is a %s: only regular files, directories and symbolic links are extracted", hdr.Name, typeName(hdr.Typeflag))
	}
	if err != nil {
		return x.entryError(hdr.Name, rel, err)
	}
	x.entries++
	return nil
}

// entryPath checks an entry's name and cleans it: relative, without NUL
// bytes or ".." elements (refused, not resolved).
func entryPath(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("the name is empty")
	case strings.IndexByte(name, 0) >= 0:
		return "", errors.New("the name contains a NUL byte")
	case strings.HasPrefix(name, "/"):
		return "", errors.New("the name is absolute")
	case hasDotDot(name):
		return "", errors.New("the name has a '..' element")
	}
	return path.Clean(name), nil
}

func typeName(flag byte) string {
	switch flag {
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "FIFO"
	}
	return fmt.Sprintf("entry of type %q", flag)
}

// entryError names the entry in err, with the code a client can act on: a
// link that leads outside (EXDEV) or where none may be (ELOOP) is the
// archive's fault, InvalidArgument.
func (x *extractor) entryError(name, rel string, err error) error {
	where := fmt.Sprintf("entry %q", name)
	if _, ok := status.FromError(err); ok {
		return annotate(err, where)
	}
	if errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ELOOP) {
		return status.Errorf(codes.InvalidArgument, "%s: its path goes through a symbolic link that leads outside %s", where, x.rootPath)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return status.Errorf(codes.InvalidArgument, "%s: the archive is truncated", where)
	}
	return annotate(fsStatus("extracting", filepath.Join(x.rootPath, rel), err), where)
}

// openDir opens (O_PATH) the directory rel beneath the target, creating
// what is missing of it (0755, as tar does for directories the archive does
// not list). Links on the way are followed only while they stay beneath
// the target.
func (x *extractor) openDir(rel string) (int, error) {
	fd, err := openBeneath(x.root, rel, unix.O_PATH|unix.O_DIRECTORY, beneath)
	if err == nil || rel == "." || !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	parent, err := x.openDir(path.Dir(rel))
	if err != nil {
		return -1, err
	}
	err = unix.Mkdirat(parent, path.Base(rel), defaultDirMode)
	unix.Close(parent)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, &fs.PathError{Op: "mkdirat", Path: rel, Err: err}
	}
	return openBeneath(x.root, rel, unix.O_PATH|unix.O_DIRECTORY, beneath)
}

func (x *extractor) mkdir(rel string, hdr *tar.Header) error {
	parent, err := x.openDir(path.Dir(rel))
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	name := path.Base(rel)
	existed := false
	if err := unix.Mkdirat(parent, name, 0o700); err != nil {
		if !errors.Is(err, unix.EEXIST) {
			return &fs.PathError{Op: "mkdirat", Path: rel, Err: err}
		}
		var st unix.Stat_t
		if err := unix.Fstatat(parent, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &fs.PathError{Op: "fstatat", Path: rel, Err: err}
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return status.Errorf(codes.FailedPrecondition, "%s exists and is not a directory", filepath.Join(x.rootPath, rel))
		}
		existed = true
	}
	mode := uint32(hdr.Mode) & keptModeBits
	if len(x.dirs) < maxDeferredDirs {
		x.dirs = append(x.dirs, deferredDir{rel: rel, mode: mode, mtime: hdr.ModTime})
		mode |= 0o700 // until finish: the directory's entries are still to come
	}
	if err := chmodBeneath(parent, name, mode); err != nil && !existed {
		return err
	}
	return nil
}

func (x *extractor) file(rel string, hdr *tar.Header, content io.Reader) (err error) {
	parent, err := x.openDir(path.Dir(rel))
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	name := path.Base(rel)
	var fd int
	tmp, err := createTemp(name, func(tmp string) (err error) {
		fd, err = unix.Openat(parent, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return &fs.PathError{Op: "openat", Path: rel, Err: err}
	}
	f := os.NewFile(uintptr(fd), filepath.Join(x.rootPath, rel))
	defer func() {
		if err != nil {
			f.Close()
			_ = unix.Unlinkat(parent, tmp, 0)
		}
	}()
	// writerOnly hides File.ReadFrom, which would copy through a buffer of
	// its own rather than x.buf.
	n, err := io.CopyBuffer(writerOnly{f}, content, x.buf)
	if err != nil {
		return err
	}
	// Explicit chmod: the umask must not change the archive's mode.
	if err := fchmod(f, uint32(hdr.Mode)&keptModeBits); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	setTimeAt(parent, tmp, hdr.ModTime)
	if err := unix.Renameat(parent, tmp, parent, name); err != nil {
		return &fs.PathError{Op: "renameat", Path: rel, Err: err}
	}
	x.bytes += n
	return nil
}

type writerOnly struct{ io.Writer }

func (x *extractor) symlink(rel string, hdr *tar.Header) error {
	if hdr.Linkname == "" || strings.IndexByte(hdr.Linkname, 0) >= 0 {
		return status.Errorf(codes.InvalidArgument, "symbolic link target %q is empty or holds a NUL byte", hdr.Linkname)
	}
	parent, err := x.openDir(path.Dir(rel))
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	name := path.Base(rel)
	// The link may point anywhere: it is created, never followed. Beside
	// the entry first, then renamed over it, replacing a file or a link.
	tmp, err := createTemp(name, func(tmp string) error { return unix.Symlinkat(hdr.Linkname, parent, tmp) })
	if err != nil {
		return &fs.PathError{Op: "symlinkat", Path: rel, Err: err}
	}
	setTimeAt(parent, tmp, hdr.ModTime)
	if err := unix.Renameat(parent, tmp, parent, name); err != nil {
		_ = unix.Unlinkat(parent, tmp, 0)
		return &fs.PathError{Op: "renameat", Path: rel, Err: err}
	}
	return nil
}

// finish sets the deferred directories' modes and times, deepest last
// created first, so that setting one does not change its parent's time.
func (x *extractor) finish() {
	for _, d := range slices.Backward(x.dirs) {
		parent, err := openBeneath(x.root, path.Dir(d.rel), unix.O_PATH|unix.O_DIRECTORY, beneath)
		if err != nil {
			continue // removed since
		}
		name := path.Base(d.rel)
		if err := chmodBeneath(parent, name, d.mode); err != nil {
			klog.V(2).InfoS("Could not set an extracted directory's mode", "path", filepath.Join(x.rootPath, d.rel), "err", err)
		}
		setTimeAt(parent, name, d.mtime)
		unix.Close(parent)
	}
}

// chmodBeneath sets the mode of the directory name in parent, opened
// without following a link: fchmodat(2) would follow one.
func chmodBeneath(parent int, name string, mode uint32) error {
	fd, err := openBeneath(parent, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, noSymlinksBeneath)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, mode); err != nil {
		return &fs.PathError{Op: "fchmod", Path: name, Err: err}
	}
	return nil
}

// setTimeAt sets the modification time of name in dir, a link's own;
// best effort.
func setTimeAt(dir int, name string, mtime time.Time) {
	if mtime.IsZero() {
		return
	}
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, unix.NsecToTimespec(mtime.UnixNano())}
	_ = unix.UtimesNanoAt(dir, name, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// createTemp calls create with fresh hidden names beside name until one
// does not exist yet, and returns it.
func createTemp(name string, create func(tmp string) error) (string, error) {
	if len(name) > 64 {
		name = name[:64]
	}
	for range 100 {
		tmp := "." + name + ".arl-" + strconv.FormatUint(rand.Uint64(), 36)
		err := create(tmp)
		if !errors.Is(err, unix.EEXIST) {
			return tmp, err
		}
	}
	return "", unix.EEXIST
}

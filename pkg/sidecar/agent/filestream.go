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
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/klog/v2"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// ChunkBytes is the content carried by one message of the streaming file
// RPCs (ReadFileStream, PackArchive), and so about what one such call holds
// in memory, whatever the size of the file or archive.
const ChunkBytes = 256 << 10

// WriteFile writes one file from a stream; see agent.proto.
func (a *Agent) WriteFile(stream agentv1.AgentService_WriteFileServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "the stream ended before the header")
	}
	if err != nil {
		return err
	}
	h := first.GetHeader()
	if h == nil {
		return status.Error(codes.InvalidArgument, "the first message must carry the header")
	}
	path, err := a.paths.forWrite("", h.GetPath())
	if err != nil {
		return err
	}
	if h.GetMode()&^0o7777 != 0 {
		return status.Errorf(codes.InvalidArgument, "mode %#o has bits other than permissions (07777)", h.GetMode())
	}
	content := &streamReader{pending: first.GetContent(), next: func() ([]byte, error) {
		m, err := stream.Recv()
		if err != nil {
			return nil, err
		}
		if m.GetHeader() != nil {
			return nil, status.Error(codes.InvalidArgument, "a message other than the first carries a header")
		}
		return m.GetContent(), nil
	}}
	info, err := writeAtomic(path, h.GetMode(), h.GetCreateParents(), content)
	if err != nil {
		return err
	}
	klog.V(2).InfoS("Wrote file from a stream", "path", path, "bytes", info.GetSize())
	return stream.SendAndClose(info)
}

// ReadFileStream streams (part of) a regular file; see agent.proto. Unlike
// ReadFile it has no size limit: it sends the file in chunks from one open
// descriptor, up to the size the file had when opened.
func (a *Agent) ReadFileStream(req *agentv1.ReadFileRequest, stream agentv1.AgentService_ReadFileStreamServer) error {
	if req.GetOffset() < 0 || req.GetMaxBytes() < 0 {
		return status.Error(codes.InvalidArgument, "offset and max_bytes must not be negative")
	}
	path, err := a.paths.forRead("", req.GetPath())
	if err != nil {
		return err
	}
	f, st, err := openRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := stream.Send(&agentv1.FileChunk{Info: statOfInfo(path, st)}); err != nil {
		return err
	}
	remaining := max(st.Size()-req.GetOffset(), 0)
	if m := req.GetMaxBytes(); m > 0 {
		remaining = min(remaining, m)
	}
	off, sent := req.GetOffset(), int64(0)
	for remaining > 0 {
		// A buffer per message: gRPC may still hold a sent one.
		buf := make([]byte, min(remaining, ChunkBytes))
		n, err := f.ReadAt(buf, off)
		if n > 0 {
			if err := stream.Send(&agentv1.FileChunk{Content: buf[:n]}); err != nil {
				return err
			}
			off, sent, remaining = off+int64(n), sent+int64(n), remaining-int64(n)
		}
		if errors.Is(err, io.EOF) {
			break // the file shrank since it was opened
		}
		if err != nil {
			return fsStatus("reading", path, err)
		}
	}
	klog.V(2).InfoS("Streamed file", "path", path, "offset", req.GetOffset(), "bytes", sent)
	return nil
}

// openRegular opens path for reading and checks that it is a regular file
// (FailedPrecondition otherwise).
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	// O_NONBLOCK: opening a FIFO would wait for a writer, forever (nothing
	// interrupts open(2)); it is refused below like any file that is not
	// regular. O_NOCTTY: a terminal must not become the agent's own.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		// A socket cannot be opened at all (ENXIO).
		if st, serr := os.Stat(path); serr == nil && !st.Mode().IsRegular() {
			return nil, nil, notRegular(path, st)
		}
		return nil, nil, fsStatus("opening", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fsStatus("reading", path, err)
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(path, st)
	}
	return f, st, nil
}

// streamReader reads the content of a client stream's messages: pending
// first (the first message's), then what next returns, until next's error
// (io.EOF at the end of the stream).
type streamReader struct {
	pending []byte
	next    func() ([]byte, error)
}

func (r *streamReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		b, err := r.next()
		if err != nil {
			return 0, err
		}
		r.pending = b
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// WriteTo hands each message's content to w as it is, without copying it
// through a buffer first (io.Copy prefers it).
func (r *streamReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(r.pending) > 0 {
			n, err := w.Write(r.pending)
			total += int64(n)
			r.pending = r.pending[n:]
			if err != nil {
				return total, err
			}
		}
		b, err := r.next()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		r.pending = b
	}
}

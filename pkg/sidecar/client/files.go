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

package client

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// ChunkBytes is the content the streaming wrappers send per message, as
// the agent does: memory stays bounded whatever the size of a file.
const ChunkBytes = 256 << 10

// errAgentEnded: a Send failed because the agent ended the call; its status
// comes from CloseAndRecv.
var errAgentEnded = errors.New("the agent ended the call")

// WriteFile streams r into the file header names (the WriteFile RPC). The
// file appears whole once r is read to its end, or not at all when reading
// r fails or ctx is cancelled.
func (c *Client) WriteFile(ctx context.Context, header *agentv1.WriteFileHeader, r io.Reader) (*agentv1.FileInfo, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // on a read error: the agent drops its temporary file
	stream, err := c.api.WriteFile(ctx)
	if err != nil {
		return nil, err
	}
	err = sendChunks(r, func(content []byte, first bool) error {
		m := &agentv1.WriteFileChunk{Content: content}
		if first {
			m.Header = header
		}
		return stream.Send(m)
	})
	if err != nil && !errors.Is(err, errAgentEnded) {
		return nil, err
	}
	return stream.CloseAndRecv()
}

// UnpackArchive streams the tar archive r to the agent, which extracts it
// into the directory path (created if missing). See agent.proto for what
// an archive may hold.
func (c *Client) UnpackArchive(ctx context.Context, path string, r io.Reader) (*agentv1.UnpackArchiveResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.api.UnpackArchive(ctx)
	if err != nil {
		return nil, err
	}
	err = sendChunks(r, func(content []byte, first bool) error {
		m := &agentv1.UnpackArchiveChunk{Content: content}
		if first {
			m.Path = path
		}
		return stream.Send(m)
	})
	if err != nil && !errors.Is(err, errAgentEnded) {
		return nil, err
	}
	return stream.CloseAndRecv()
}

// sendChunks sends r in chunks of ChunkBytes, the first one (possibly
// empty) marked. It returns nil at the end of r, r's error, or
// errAgentEnded.
func sendChunks(r io.Reader, send func(content []byte, first bool) error) error {
	for first := true; ; first = false {
		// A buffer per message: gRPC may still hold a sent one.
		buf := make([]byte, ChunkBytes)
		n, rerr := io.ReadFull(r, buf)
		if n > 0 || first {
			if err := send(buf[:n], first); err != nil {
				if errors.Is(err, io.EOF) {
					return errAgentEnded
				}
				return err
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// OpenFile starts a ReadFileStream and returns the file's description (as
// opened, before any content: what an HTTP answer's headers need) and a
// reader of the content. Close the reader, or cancel ctx, to end the call
// before the end of the content.
func (c *Client) OpenFile(ctx context.Context, req *agentv1.ReadFileRequest) (*agentv1.FileStat, io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.api.ReadFileStream(ctx, req)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) || (err == nil && first.GetInfo() == nil) {
		err = status.Error(codes.Internal, "the agent began ReadFileStream without the file's description")
	}
	if err != nil {
		cancel()
		return nil, nil, err
	}
	r := &chunkReader{pending: first.GetContent(), cancel: cancel, recv: func() ([]byte, error) {
		m, err := stream.Recv()
		return m.GetContent(), err
	}}
	return first.GetInfo(), r, nil
}

// ReadFileStream writes (a range of) a file of any size to w and returns
// its description. Nothing is written to w when the agent refuses the call.
func (c *Client) ReadFileStream(ctx context.Context, req *agentv1.ReadFileRequest, w io.Writer) (*agentv1.FileStat, error) {
	st, r, err := c.OpenFile(ctx, req)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if _, err := io.Copy(w, r); err != nil {
		return nil, err
	}
	return st, nil
}

// PackArchive writes the tar archive of a directory (or of one file) to w.
// Nothing is written to w when the agent refuses the call; an error after
// that leaves a partial archive in w.
func (c *Client) PackArchive(ctx context.Context, req *agentv1.PackArchiveRequest, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.api.PackArchive(ctx, req)
	if err != nil {
		return err
	}
	r := &chunkReader{cancel: cancel, recv: func() ([]byte, error) {
		m, err := stream.Recv()
		return m.GetContent(), err
	}}
	_, err = r.WriteTo(w)
	return err
}

// Stat calls Stat.
func (c *Client) Stat(ctx context.Context, req *agentv1.StatRequest) (*agentv1.FileStat, error) {
	return c.api.Stat(ctx, req)
}

// ListDir calls ListDir.
func (c *Client) ListDir(ctx context.Context, req *agentv1.ListDirRequest) (*agentv1.ListDirResponse, error) {
	return c.api.ListDir(ctx, req)
}

// Remove calls Remove.
func (c *Client) Remove(ctx context.Context, req *agentv1.RemoveRequest) (*agentv1.RemoveResponse, error) {
	return c.api.Remove(ctx, req)
}

// MakeDir calls MakeDir.
func (c *Client) MakeDir(ctx context.Context, req *agentv1.MakeDirRequest) (*agentv1.FileStat, error) {
	return c.api.MakeDir(ctx, req)
}

// errReadAfterClose: the call ended with Close, whatever gRPC had buffered.
var errReadAfterClose = errors.New("read after Close")

// chunkReader reads the content of a server stream's messages: pending
// first, then what recv returns, until recv's error (io.EOF at the end).
type chunkReader struct {
	pending []byte
	recv    func() ([]byte, error)
	cancel  context.CancelFunc
	closed  bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errReadAfterClose
	}
	for len(r.pending) == 0 {
		b, err := r.recv()
		if err != nil {
			return 0, err
		}
		r.pending = b
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// WriteTo writes each message's content to w as it comes (io.Copy prefers
// it to Read).
func (r *chunkReader) WriteTo(w io.Writer) (int64, error) {
	if r.closed {
		return 0, errReadAfterClose
	}
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
		b, err := r.recv()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		r.pending = b
	}
}

// Close ends the call, whether or not the content was read to its end.
func (r *chunkReader) Close() error {
	r.closed = true
	r.pending = nil
	r.cancel()
	return nil
}

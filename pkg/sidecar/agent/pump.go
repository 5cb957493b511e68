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
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	// chunkSize is the largest output chunk read (and sent) at once: a
	// pipe's default capacity.
	chunkSize = 64 << 10
	// maxDrain bounds what is read after the process exited: what it wrote
	// fits in a pipe (at most pipe-max-size, 1 MiB by default); more comes
	// from survivors still writing.
	maxDrain = 1 << 20
)

// pump copies what a process writes to a pipe (or a PTY master) to sink, in
// chunks as they arrive. It never stops reading on its own before EOF, so the
// writer never blocks on a full pipe because of us. sink must not retain the
// slice it is given.
type pump struct {
	f    *os.File
	sink func([]byte)
	// lingerDiscard: once finished, keep reading and discarding until EOF
	// and close f then. Processes that inherited the pipe and outlived the
	// command (a background grandchild) neither block nor get SIGPIPE.
	// Without it, f is left open for its owner to close.
	lingerDiscard bool

	finishOnce sync.Once
	done       chan struct{}
}

// chunkPool recycles the pumps' read buffers: two per command would
// otherwise be 128 KiB of garbage for every "true".
var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

func startPump(f *os.File, lingerDiscard bool, sink func([]byte)) *pump {
	p := &pump{f: f, sink: sink, lingerDiscard: lingerDiscard, done: make(chan struct{})}
	go p.run()
	return p
}

func (p *pump) run() {
	defer close(p.done)
	bufp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bufp)
	buf := *bufp
	for {
		n, err := p.f.Read(buf)
		if n > 0 {
			p.sink(buf[:n])
		}
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			p.drain(buf)
			return
		}
		// EOF, or EIO: a PTY master whose terminal has no opener left.
		if p.lingerDiscard {
			p.f.Close()
		}
		return
	}
}

// drain reads what the pipe holds right now, then stops (or hands the pipe
// to a discarding reader).
func (p *pump) drain(buf []byte) {
	_ = p.f.SetReadDeadline(time.Time{})
	rc, err := p.f.SyscallConn()
	eof := false
	if err == nil {
		for total := 0; total < maxDrain; {
			var n int
			var rerr error
			cerr := rc.Read(func(fd uintptr) bool {
				for {
					n, rerr = unix.Read(int(fd), buf)
					if !errors.Is(rerr, unix.EINTR) {
						return true // never wait: EAGAIN means empty
					}
				}
			})
			if cerr != nil || rerr != nil || n <= 0 {
				eof = cerr == nil && rerr == nil && n == 0 || errors.Is(rerr, syscall.EIO)
				break
			}
			p.sink(buf[:n])
			total += n
		}
	}
	if !p.lingerDiscard {
		return
	}
	if eof {
		p.f.Close()
		return
	}
	go discard(p.f)
}

func discard(f *os.File) {
	buf := make([]byte, 4096) // what survivors write is dropped; no need to read it fast
	for {
		if _, err := f.Read(buf); err != nil {
			f.Close()
			return
		}
	}
}

// finish is called once the process has exited, when everything it wrote is
// in the pipe: the pump takes what is there and stops, instead of waiting for
// an EOF that a surviving grandchild holding the pipe would delay forever.
func (p *pump) finish() {
	p.finishOnce.Do(func() {
		// Wakes a blocked Read; a closed file (EOF seen) just errors.
		_ = p.f.SetReadDeadline(time.Now())
	})
	<-p.done
}

// wait waits for EOF without forcing the pump to stop.
func (p *pump) wait() { <-p.done }

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

package executor

import (
	"context"
	"fmt"
	"io"
	"sync"
)

// output collects a Task's output on the replica that runs it: a tail of
// each stream for its status (the last attempt's), and the combined
// stream as produced (every attempt's) in a window of the last logBytes,
// which tasks/{name}/log readers read from.
//
// Readers hold no copy of the output, only their offset in it (as a
// kubelet's log reader holds an offset in a log file): the memory of a
// Task's output is its window and its tails whatever its number of
// readers, and a write never waits for a reader. A reader that falls
// more than the window behind finds its next byte overwritten and is cut
// off with a line that says so.
type output struct {
	mu     sync.Mutex
	stdout ring
	stderr ring
	log    ring
	// readers are the followers to wake when output arrives.
	readers map[*logReader]struct{}
	// done: the Task finished, no more output comes.
	done bool
	// released: the window was dropped (see release); offsets still count.
	released bool
}

func newOutput(statusBytes, logBytes int) *output {
	return &output{
		stdout:  ring{max: statusBytes},
		stderr:  ring{max: statusBytes},
		log:     ring{max: logBytes},
		readers: map[*logReader]struct{}{},
	}
}

// write records a chunk of stdout (stderr when isErr) and wakes the
// followers; it never blocks on them.
func (o *output) write(isErr bool, chunk []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if isErr {
		o.stderr.write(chunk)
	} else {
		o.stdout.write(chunk)
	}
	o.log.write(chunk)
	for r := range o.readers {
		r.wakeUp()
	}
}

// newAttempt forgets the status output of a failed attempt: a Task's
// status shows what its last attempt printed (the log window keeps
// every attempt's).
func (o *output) newAttempt() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stdout.reset()
	o.stderr.reset()
}

// statusOutput returns the stdout and stderr tails and their truncation.
func (o *output) statusOutput() (stdout, stderr string, stdoutTruncated, stderrTruncated bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stdout.String(), o.stderr.String(), o.stdout.truncated(), o.stderr.truncated()
}

// streamOffsets are the offsets, in the current attempt's stdout and
// stderr, of the next byte each will get.
type streamOffsets struct{ stdout, stderr int64 }

// offsets tells where the streams are: a step's output lies between the
// offsets before and after it.
func (o *output) offsets() streamOffsets {
	o.mu.Lock()
	defer o.mu.Unlock()
	return streamOffsets{stdout: o.stdout.written, stderr: o.stderr.written}
}

// firsts are the offsets of the oldest bytes the status tails keep.
func (o *output) firsts() streamOffsets {
	o.mu.Lock()
	defer o.mu.Unlock()
	return streamOffsets{stdout: o.stdout.first(), stderr: o.stderr.first()}
}

// stepSpan is where a step's output lies in the attempt's streams.
type stepSpan struct{ from, to streamOffsets }

// splitTail returns the part of tail (the stream's bytes from offset first
// on) that lies between from and to: what of it the tail still holds.
func splitTail(tail string, first, from, to int64) string {
	from, to = max(from, first)-first, max(to, first)-first
	if to > int64(len(tail)) || from >= to {
		return ""
	}
	return tail[from:to]
}

// finish ends the output: followers read what is left and reach EOF. The
// status tails, already written, are dropped; the window stays for
// whoever retains the output.
func (o *output) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done = true
	o.stdout.release()
	o.stderr.release()
	o.log.compact()
	for r := range o.readers {
		r.wakeUp()
	}
	clear(o.readers)
}

// release drops the window of a finished Task: a reader that has not
// read it all yet is cut off, and nothing of the output stays in memory.
func (o *output) release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.released = true
	o.log.release()
}

// size is the memory the output holds.
func (o *output) size() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.log.size() + o.stdout.size() + o.stderr.size()
}

// open returns a reader of the window from its oldest byte: up to what
// has been written now, or with follow until the Task finishes (or ctx
// ends). Close it when done.
func (o *output) open(ctx context.Context, follow bool) io.ReadCloser {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := &logReader{o: o, ctx: ctx, next: o.log.first(), end: o.log.written, follow: follow, lineStart: true}
	if o.released {
		r.next = o.log.written
	}
	if follow && !o.done {
		r.wake = make(chan struct{}, 1)
		o.readers[r] = struct{}{}
	}
	return r
}

// logReader reads an output's window from its own offset.
type logReader struct {
	o      *output
	ctx    context.Context
	follow bool
	// next is the offset of the next byte to read; without follow the
	// reader stops at end.
	next, end int64
	// wake has a token when output arrived since the reader last looked.
	wake chan struct{}
	// lineStart: the last byte read ended a line (or none was read).
	lineStart bool
	// trailer is the in-band notice of a cut reader, then its EOF.
	trailer []byte
	cut     bool
}

var _ io.ReadCloser = &logReader{}

func (r *logReader) wakeUp() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Read implements io.Reader: the window's bytes from the reader's offset,
// then the notice if the reader was cut off, then io.EOF.
func (r *logReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if r.cut {
			if len(r.trailer) == 0 {
				return 0, io.EOF
			}
			n := copy(p, r.trailer)
			r.trailer = r.trailer[n:]
			return n, nil
		}
		n, wait := r.read(p)
		if n > 0 {
			r.lineStart = p[n-1] == '\n'
			return n, nil
		}
		if !wait {
			if r.cut {
				continue
			}
			return 0, io.EOF
		}
		select {
		case <-r.wake:
		case <-r.ctx.Done():
			r.Close()
			return 0, r.ctx.Err()
		}
	}
}

// read copies what is there for the reader; wait says to wait for more.
// A reader whose next byte is gone is cut off.
func (r *logReader) read(p []byte) (n int, wait bool) {
	o := r.o
	o.mu.Lock()
	defer o.mu.Unlock()
	end := o.log.written
	if !r.follow {
		end = min(end, r.end)
	}
	switch {
	case r.next < end && r.next < o.log.first():
		r.cutOff()
		return 0, false
	case r.next < end:
		n = o.log.readAt(r.next, p[:min(int64(len(p)), end-r.next)])
		r.next += int64(n)
		return n, false
	}
	return 0, r.follow && !o.done
}

// cutOff ends the reader with a notice on a line of its own; o.mu is held.
func (r *logReader) cutOff() {
	o := r.o
	delete(o.readers, r)
	r.cut = true
	var why string
	if o.released {
		why = "the Task finished and this server no longer keeps its output; status.stdout and status.stderr keep their tails"
	} else {
		why = fmt.Sprintf("the reader fell more than %d bytes (the server's log window) behind the Task's output; read the log again to go on from the oldest byte the server still keeps (offset %d now)", o.log.max, o.log.first())
	}
	notice := fmt.Sprintf("%s %d of the Task's output: %s\n", CutNotice, r.next, why)
	if !r.lineStart {
		notice = "\n" + notice
	}
	r.trailer = []byte(notice)
}

// CutNotice begins the last line of a log reader that was cut off.
const CutNotice = "arl: log reader cut off at byte"

// Close implements io.Closer: the output forgets the reader.
func (r *logReader) Close() error {
	r.o.mu.Lock()
	defer r.o.mu.Unlock()
	delete(r.o.readers, r)
	return nil
}

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
	"sync"
)

// tail keeps the last max bytes written to it.
type tail struct {
	max       int
	buf       []byte
	truncated bool
}

func (t *tail) write(p []byte) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.truncated = true
	}
}

func (t *tail) reset() {
	t.buf, t.truncated = t.buf[:0], false
}

// output collects a running Task's output: a tail per stream for its
// status, and the combined stream for tasks/{name}/log readers.
type output struct {
	mu       sync.Mutex
	stdout   tail
	stderr   tail
	combined tail
	readers  map[chan []byte]struct{}
	done     bool
}

// readerBuffer bounds what a slow log reader may lag behind; past it the
// reader is cut off rather than slowing the Task down.
const readerBuffer = 4096

func newOutput(statusBytes, retainedBytes int) *output {
	return &output{
		stdout:   tail{max: statusBytes},
		stderr:   tail{max: statusBytes},
		combined: tail{max: retainedBytes},
		readers:  map[chan []byte]struct{}{},
	}
}

// write records a chunk of stdout (stderr when isErr) and passes it on.
func (o *output) write(isErr bool, chunk []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if isErr {
		o.stderr.write(chunk)
	} else {
		o.stdout.write(chunk)
	}
	o.combined.write(chunk)
	for r := range o.readers {
		select {
		case r <- chunk:
		default:
			delete(o.readers, r)
			close(r)
		}
	}
}

// newAttempt forgets the status output of a failed attempt: a Task's
// status shows what its last attempt printed (the log keeps everything).
func (o *output) newAttempt() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stdout.reset()
	o.stderr.reset()
}

// subscribe returns what was printed so far and a channel of what follows,
// closed when the Task finishes (or the reader falls too far behind).
func (o *output) subscribe() ([]byte, chan []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	retained := append([]byte(nil), o.combined.buf...)
	ch := make(chan []byte, readerBuffer)
	if o.done {
		close(ch)
		return retained, ch
	}
	o.readers[ch] = struct{}{}
	return retained, ch
}

func (o *output) unsubscribe(ch chan []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.readers[ch]; ok {
		delete(o.readers, ch)
		close(ch)
	}
}

// finish closes every reader.
func (o *output) finish() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done = true
	for r := range o.readers {
		close(r)
	}
	o.readers = map[chan []byte]struct{}{}
}

// statusOutput returns the stdout and stderr tails and their truncation.
func (o *output) statusOutput() (stdout, stderr string, stdoutTruncated, stderrTruncated bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.stdout.buf), string(o.stderr.buf), o.stdout.truncated, o.stderr.truncated
}

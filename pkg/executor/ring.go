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

import "strings"

// ring keeps the last max bytes of a stream, in place: a write costs what
// it copies, however full the ring is. Bytes are addressed by their
// offset in the whole stream; the one at offset o is buf[o%max]. The
// buffer grows with what is written, up to max, so a Task that prints
// little holds little.
type ring struct {
	max     int
	buf     []byte
	written int64 // bytes ever written
}

// minRingGrowth is the smallest buffer a ring allocates.
const minRingGrowth = 4 << 10

func (r *ring) write(p []byte) {
	start := r.written
	r.written += int64(len(p))
	if r.max <= 0 || len(p) == 0 {
		return
	}
	if len(p) > r.max {
		start += int64(len(p) - r.max)
		p = p[len(p)-r.max:]
	}
	if kept := int(min(r.written, int64(r.max))); kept > len(r.buf) {
		r.grow(kept)
	}
	// Until the ring is full nothing wraps: the bytes so far are
	// buf[0:written], and p lands right after them.
	n := copy(r.buf[start%int64(r.max):], p)
	copy(r.buf, p[n:])
}

// grow makes buf n bytes long, doubling its capacity up to max.
func (r *ring) grow(n int) {
	if n <= cap(r.buf) {
		r.buf = r.buf[:n]
		return
	}
	buf := make([]byte, n, min(r.max, max(n, 2*cap(r.buf), minRingGrowth)))
	copy(buf, r.buf)
	r.buf = buf
}

// first is the offset of the oldest byte kept.
func (r *ring) first() int64 { return r.written - int64(len(r.buf)) }

// truncated says whether the ring lost the stream's beginning.
func (r *ring) truncated() bool { return r.first() > 0 }

// readAt copies into p the bytes from offset off (first() <= off <=
// written) and returns how many.
func (r *ring) readAt(off int64, p []byte) int {
	n := int(min(int64(len(p)), r.written-off))
	if n <= 0 {
		return 0
	}
	c := copy(p[:n], r.buf[off%int64(r.max):])
	copy(p[c:n], r.buf)
	return n
}

// String is what the ring keeps, oldest byte first.
func (r *ring) String() string {
	if len(r.buf) == 0 {
		return ""
	}
	i := int(r.first() % int64(r.max))
	var b strings.Builder
	b.Grow(len(r.buf))
	b.Write(r.buf[i:])
	b.Write(r.buf[:i])
	return b.String()
}

// reset forgets everything written.
func (r *ring) reset() { r.buf, r.written = r.buf[:0], 0 }

// release drops the buffer: the stream's offsets go on, nothing is kept.
func (r *ring) release() { r.buf = nil }

// compact trims the buffer's spare capacity (a ring that stopped growing).
func (r *ring) compact() {
	if cap(r.buf) > len(r.buf) {
		r.buf = append([]byte(nil), r.buf...)
	}
}

// size is the memory the ring holds.
func (r *ring) size() int { return cap(r.buf) }

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
	"os"
	"sync"

	"k8s.io/klog/v2"
)

// processLog keeps the output of a background process: the last tailMax
// bytes in memory (what ListProcesses shows), and, with a log directory, the
// first fileMax bytes in a file.
type processLog struct {
	mu        sync.Mutex
	tail      []byte
	tailMax   int
	tailLost  bool
	file      *os.File
	fileBytes int64
	fileMax   int64
	fileFull  bool
	writers   int
}

func newProcessLog(tailMax int, file *os.File, fileMax int64, writers int) *processLog {
	return &processLog{tailMax: tailMax, file: file, fileMax: fileMax, writers: writers}
}

func (l *processLog) write(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tail = append(l.tail, b...)
	// Slide only once the buffer is twice the cap, so that appending stays
	// amortised O(1) per byte.
	if len(l.tail) > 2*l.tailMax {
		n := copy(l.tail, l.tail[len(l.tail)-l.tailMax:])
		l.tail = l.tail[:n]
		l.tailLost = true
	}
	if l.file != nil && !l.fileFull {
		room := l.fileMax - l.fileBytes
		chunk := b
		if int64(len(chunk)) > room {
			chunk = chunk[:room]
			l.fileFull = true
		}
		n, err := l.file.Write(chunk)
		l.fileBytes += int64(n)
		if err != nil {
			klog.ErrorS(err, "Writing process log failed; stopping it", "file", l.file.Name())
			l.fileFull = true
		}
		if l.fileFull {
			_, _ = l.file.WriteString("\n[arl-sidecar: log truncated]\n")
		}
	}
}

// closeWriter is called by each pump when it is done; the file is closed
// after the last one.
func (l *processLog) closeWriter() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writers--
	if l.writers == 0 && l.file != nil {
		l.file.Close()
		l.file = nil
	}
}

// lastBytes returns a copy of at most n bytes of the tail, and whether any
// output is missing from what the log holds.
func (l *processLog) lastBytes(n int) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.tail
	if len(t) > l.tailMax {
		t = t[len(t)-l.tailMax:]
	}
	lost := l.tailLost || len(l.tail) > l.tailMax
	if n < len(t) {
		t = t[len(t)-n:]
	}
	return append([]byte(nil), t...), lost || l.fileFull
}

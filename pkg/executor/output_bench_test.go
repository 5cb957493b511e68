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
	"testing"
)

// BenchmarkOutputWrite is the server's cost per chunk of a Task's output
// (the status tails and the log window), in the steady state of a Task
// that has already printed more than it keeps, with no log reader and
// with 8 followers that never read.
func BenchmarkOutputWrite(b *testing.B) {
	for _, bc := range []struct{ size, followers int }{{100, 0}, {4 << 10, 0}, {64 << 10, 0}, {100, 8}, {64 << 10, 8}} {
		name := fmt.Sprintf("chunk=%d", bc.size)
		if bc.followers > 0 {
			name += fmt.Sprintf("/followers=%d", bc.followers)
		}
		size := bc.size
		b.Run(name, func(b *testing.B) {
			out := newOutput(DefaultOutputBytes, 4<<20)
			for range bc.followers {
				defer out.open(context.Background(), true).Close()
			}
			chunk := make([]byte, size)
			fill := make([]byte, 64<<10)
			for i := 0; i < 2*(4<<20)/len(fill); i++ {
				out.write(i%2 == 1, fill)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				out.write(i%2 == 1, chunk)
			}
		})
	}
}

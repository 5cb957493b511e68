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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// stream is n bytes of output, each position recognisable.
func stream(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// splitNotice splits what a reader got into the output and the cut
// notice, and checks the output is the stream's bytes from offset from
// up to where the notice says the reader was cut off.
func splitNotice(t *testing.T, got, all []byte, from int) (data []byte, notice string) {
	t.Helper()
	i := bytes.Index(got, []byte(CutNotice))
	if i < 0 {
		if !bytes.Equal(got, all[from:from+len(got)]) {
			t.Fatalf("the reader got %d bytes that are not the output from offset %d", len(got), from)
		}
		return got, ""
	}
	data, notice = got[:i], string(got[i:])
	var at int
	if _, err := fmt.Sscanf(notice, CutNotice+" %d ", &at); err != nil || at < from {
		t.Fatalf("notice %q: %v", notice, err)
	}
	want := all[from:at]
	if len(want) > 0 && want[len(want)-1] != '\n' {
		want = append(want[:len(want):len(want)], '\n') // the notice starts a line of its own
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("before the notice the reader got %d bytes, not the output from %d to %d", len(data), from, at)
	}
	return all[from:at], notice
}

// caughtUp says whether a reader has read everything written so far.
func caughtUp(r io.Reader) bool {
	lr := r.(*logReader)
	lr.o.mu.Lock()
	defer lr.o.mu.Unlock()
	return lr.next >= lr.o.log.written
}

// TestFollowers: a follower costs the Task nothing: whatever its pace,
// writes never wait, the output's memory is its window, and a follower
// that falls more than the window behind is cut off with a notice.
func TestFollowers(t *testing.T) {
	const window, chunk, total = 64 << 10, 4 << 10, 1 << 20
	all := stream(total)
	tests := map[string]struct {
		// readPerChunk is what the follower reads after each chunk is
		// written; -1 reads nothing until the Task finished.
		readPerChunk int
		wantCut      bool
	}{
		"keeps up":                  {readPerChunk: chunk},
		"reads faster":              {readPerChunk: 4 * chunk},
		"falls behind within reach": {readPerChunk: chunk - 128},
		"never reads":               {readPerChunk: -1, wantCut: true},
		"reads slowly":              {readPerChunk: chunk / 4, wantCut: true},
		"reads one byte":            {readPerChunk: 1, wantCut: true},
		"reads a little too slowly": {readPerChunk: chunk - 512, wantCut: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := newOutput(1<<10, window)
			r := out.open(context.Background(), true)
			defer r.Close()
			var got []byte
			buf := make([]byte, 64<<10)
			ended := false
			for off := 0; off < total; off += chunk {
				out.write(off%3 == 0, all[off:off+chunk])
				if size := out.size(); size > window+2<<10 {
					t.Fatalf("the output holds %d bytes, more than its window and tails", size)
				}
				for want := tc.readPerChunk; want > 0 && !ended && !caughtUp(r); {
					n, err := r.Read(buf[:min(want, len(buf))])
					got = append(got, buf[:n]...)
					want -= n
					switch {
					case err == io.EOF:
						ended = true // cut off, the notice read
					case err != nil:
						t.Fatal(err)
					}
				}
			}
			out.finish()
			rest, err := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, rest...)
			data, notice := splitNotice(t, got, all, 0)
			if !tc.wantCut {
				if notice != "" || len(data) != total {
					t.Fatalf("got %d of %d bytes, notice %q", len(data), total, notice)
				}
				return
			}
			if notice == "" {
				t.Fatalf("a follower %d bytes behind was not cut off (it got %d bytes)", total-len(data), len(data))
			}
			if want := fmt.Sprintf("%s %d of the Task's output: the reader fell more than %d bytes", CutNotice, len(data), window); !strings.HasPrefix(notice, want) || !strings.HasSuffix(notice, "\n") {
				t.Errorf("notice %q, want it to begin %q and end the line", notice, want)
			}
		})
	}
}

// TestManyStalledFollowers: the memory of a Task's output does not grow
// with its followers, however far behind they are.
func TestManyStalledFollowers(t *testing.T) {
	const window = 64 << 10
	out := newOutput(1<<10, window)
	var readers []io.ReadCloser
	for i := 0; i < 1000; i++ {
		readers = append(readers, out.open(context.Background(), true))
	}
	all := stream(4 << 20)
	for off := 0; off < len(all); off += 32 << 10 {
		out.write(false, all[off:off+32<<10])
	}
	if size := out.size(); size > window+1<<10 {
		t.Errorf("1000 stalled followers: the output holds %d bytes", size)
	}
	for _, r := range readers[:10] {
		got, err := io.ReadAll(io.LimitReader(r, 1<<10))
		if err != nil || !strings.HasPrefix(string(got), CutNotice+" 0 ") {
			t.Fatalf("a stalled follower read %q %v, want the cut notice", got, err)
		}
	}
}

// TestFollowerDisconnects: a follower whose request ends while it waits
// returns at once and is forgotten; so is one that is closed.
func TestFollowerDisconnects(t *testing.T) {
	tests := map[string]func(r io.ReadCloser, cancel context.CancelFunc){
		"request context ends": func(_ io.ReadCloser, cancel context.CancelFunc) { cancel() },
		"reader closed":        func(r io.ReadCloser, _ context.CancelFunc) { r.Close() },
	}
	for name, disconnect := range tests {
		t.Run(name, func(t *testing.T) {
			out := newOutput(1<<10, 1<<10)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := out.open(ctx, true)
			out.write(false, []byte("first\n"))
			got := make([]byte, 64)
			if n, err := r.Read(got); err != nil || string(got[:n]) != "first\n" {
				t.Fatalf("read %q %v", got[:n], err)
			}
			waiting := make(chan error, 1)
			go func() {
				_, err := r.Read(got)
				waiting <- err
			}()
			if name == "request context ends" {
				disconnect(r, cancel)
				if err := <-waiting; !errors.Is(err, context.Canceled) {
					t.Errorf("the waiting Read returned %v, want context.Canceled", err)
				}
			} else {
				disconnect(r, cancel)
				// A closed reader is not woken any more; its pending Read
				// ends with the request (the server closes after Read).
				cancel()
				<-waiting
			}
			out.mu.Lock()
			defer out.mu.Unlock()
			if len(out.readers) != 0 {
				t.Errorf("the output still holds %d readers after they left", len(out.readers))
			}
		})
	}
}

// TestSnapshot: without follow a reader gets the window as it was when it
// opened, then EOF, while the Task goes on.
func TestSnapshot(t *testing.T) {
	out := newOutput(1<<10, 16)
	out.write(false, []byte("abcdefghij"))
	r := out.open(context.Background(), false)
	out.write(false, []byte("kl"))
	if got, err := io.ReadAll(r); err != nil || string(got) != "abcdefghij" {
		t.Errorf("snapshot %q %v, want %q", got, err, "abcdefghij")
	}

	// A snapshot whose bytes are overwritten while it is read is cut.
	out = newOutput(1<<10, 8)
	out.write(false, []byte("abcdefghijkl"))
	r = out.open(context.Background(), false)
	first := make([]byte, 2)
	if _, err := io.ReadFull(r, first); err != nil || string(first) != "ef" {
		t.Fatalf("read %q %v", first, err)
	}
	out.write(false, []byte("0123456789"))
	rest, _ := io.ReadAll(r)
	if !strings.HasPrefix(string(rest), "\n"+CutNotice+" 6 ") {
		t.Errorf("after its bytes were overwritten the snapshot read %q", rest)
	}
}

// TestFinishedOutput: a follower reads what is left once the Task
// finished; once the output is released, an unread rest is cut off and
// the window is gone.
func TestFinishedOutput(t *testing.T) {
	out := newOutput(1<<10, 1<<10)
	r1 := out.open(context.Background(), true)
	r2 := out.open(context.Background(), true)
	out.write(false, []byte("line 1\nline 2\n"))
	out.finish()
	if got, err := io.ReadAll(r1); err != nil || string(got) != "line 1\nline 2\n" {
		t.Errorf("after finish: %q %v", got, err)
	}
	out.release()
	got, err := io.ReadAll(r2)
	if err != nil || !strings.HasPrefix(string(got), CutNotice+" 0 of the Task's output: the Task finished") {
		t.Errorf("after release: %q %v", got, err)
	}
	if out.size() != 0 {
		t.Errorf("a released output holds %d bytes", out.size())
	}
	if got, _ := io.ReadAll(out.open(context.Background(), true)); len(got) != 0 {
		t.Errorf("a reader of a released output read %q", got)
	}
}

// TestStatusOutput: status keeps each stream's tail of the last attempt.
func TestStatusOutput(t *testing.T) {
	out := newOutput(4, 1<<10)
	out.write(false, []byte("attempt 1\n"))
	out.newAttempt()
	out.write(false, []byte("out"))
	out.write(true, []byte("error\n"))
	out.write(false, []byte("put\n"))
	stdout, stderr, stdoutTruncated, stderrTruncated := out.statusOutput()
	if stdout != "put\n" || stderr != "ror\n" || !stdoutTruncated || !stderrTruncated {
		t.Errorf("status %q %q %v %v", stdout, stderr, stdoutTruncated, stderrTruncated)
	}
	if got, _ := io.ReadAll(out.open(context.Background(), false)); string(got) != "attempt 1\nouterror\nput\n" {
		t.Errorf("the log window %q, want every attempt interleaved", got)
	}
}

// TestConcurrentFollowers runs a writer and followers at once (run with
// -race): each follower gets the output from its start, exactly, up to
// the end or to a cut notice.
func TestConcurrentFollowers(t *testing.T) {
	const window, total = 32 << 10, 2 << 20
	all := stream(total)
	out := newOutput(1<<10, window)
	var wg sync.WaitGroup
	results := make([][]byte, 8)
	for i := range results {
		r := out.open(context.Background(), true)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer r.Close()
			buf := make([]byte, 1<<(8+i)) // 256 B to 32 KiB reads
			var got []byte
			for {
				n, err := r.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
			results[i] = got
		}()
	}
	for off := 0; off < total; off += 1000 {
		out.write(false, all[off:min(off+1000, total)])
	}
	out.finish()
	wg.Wait()
	for i, got := range results {
		data, notice := splitNotice(t, got, all, 0)
		if notice == "" && len(data) != total {
			t.Errorf("follower %d: %d of %d bytes and no notice", i, len(data), total)
		}
	}
}

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
	"io"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

func finishedOutput(n int) *output {
	out := newOutput(1<<10, 1<<20)
	out.write(false, stream(n))
	out.finish()
	return out
}

// TestRetainedOutputs: finished Tasks' windows are kept within a byte
// budget (oldest first out) and a time, for their own UID only, and a
// dropped one holds no memory.
func TestRetainedOutputs(t *testing.T) {
	now := time.Now()
	const kib = 1 << 10
	tests := map[string]struct {
		sizes    []int // of Tasks t0, t1, ... in finishing order
		budget   int
		at       time.Duration // when they are looked up
		remove   string
		wantKept []string
	}{
		"all fit":              {sizes: []int{10 * kib, 10 * kib}, budget: 64 * kib, wantKept: []string{"t0", "t1"}},
		"oldest out":           {sizes: []int{20 * kib, 20 * kib, 20 * kib}, budget: 50 * kib, wantKept: []string{"t1", "t2"}},
		"empty ones cost":      {sizes: []int{0, 0, 0, 0}, budget: 3 * retainedOverhead, wantKept: []string{"t1", "t2", "t3"}},
		"larger than budget":   {sizes: []int{10 * kib, 100 * kib}, budget: 64 * kib, wantKept: []string{"t0"}},
		"expired":              {sizes: []int{10 * kib}, budget: 64 * kib, at: time.Minute},
		"deleted":              {sizes: []int{10 * kib, 10 * kib}, budget: 64 * kib, remove: "t0", wantKept: []string{"t1"}},
		"just before expiring": {sizes: []int{10 * kib}, budget: 64 * kib, at: time.Minute - time.Second, wantKept: []string{"t0"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c := newRetainedOutputs(tc.budget, time.Minute)
			var outs []*output
			for i, size := range tc.sizes {
				out := finishedOutput(size)
				outs = append(outs, out)
				c.add(taskKey("ns", keyName(i)), types.UID(keyName(i)), out, now)
			}
			if tc.remove != "" {
				c.remove(taskKey("ns", tc.remove))
			}
			c.expire(now.Add(tc.at))
			kept := map[string]bool{}
			for _, k := range tc.wantKept {
				kept[k] = true
			}
			for i, out := range outs {
				got, ok := c.get(taskKey("ns", keyName(i)), types.UID(keyName(i)), now.Add(tc.at))
				if ok != kept[keyName(i)] || (ok && got != out) {
					t.Errorf("%s kept %v, want %v", keyName(i), ok, kept[keyName(i)])
				}
				if !ok && out.size() != 0 {
					t.Errorf("%s was dropped but holds %d bytes", keyName(i), out.size())
				}
			}
			if bytes, tasks := c.usage(); bytes > tc.budget || tasks != len(tc.wantKept) {
				t.Errorf("usage %d bytes for %d Tasks, budget %d, want %d Tasks", bytes, tasks, tc.budget, len(tc.wantKept))
			}
			if _, ok := c.get(taskKey("ns", "t0"), "another-uid", now); ok {
				t.Errorf("a Task of the same name and another UID got t0's output")
			}
		})
	}
}

func keyName(i int) string { return "t" + string(rune('0'+i)) }

// TestOpenLog: the executor serves the window of a Task it runs, and of
// one it ran (only when finished ones are asked for) until it is deleted.
func TestOpenLog(t *testing.T) {
	e := New(Config{LogBytes: 1 << 10})
	task := &arl.Task{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "t", UID: "uid-1"}}
	key := taskKey("ns", "t")
	e.mu.Lock()
	rt := e.track(key)
	e.mu.Unlock()
	ctx := context.Background()

	follower, ok := e.OpenLog(ctx, task, true, false)
	if !ok {
		t.Fatal("no log for a Task this replica runs")
	}
	rt.output.write(false, []byte("\x00raw \xff bytes\n"))
	e.finish(key, task)
	if got, err := io.ReadAll(follower); err != nil || string(got) != "\x00raw \xff bytes\n" {
		t.Errorf("follower read %q %v", got, err)
	}
	follower.Close()

	if _, ok := e.OpenLog(ctx, task, false, false); ok {
		t.Error("a finished Task's window served without asking for finished ones")
	}
	r, ok := e.OpenLog(ctx, task, false, true)
	if !ok {
		t.Fatal("a finished Task's window is not retained")
	}
	if got, _ := io.ReadAll(r); string(got) != "\x00raw \xff bytes\n" {
		t.Errorf("retained %q", got)
	}
	other := task.DeepCopy()
	other.UID = "uid-2"
	if _, ok := e.OpenLog(ctx, other, false, true); ok {
		t.Error("a new Task of the same name got the old one's output")
	}
	e.Deleted("ns", "t")
	if _, ok := e.OpenLog(ctx, task, false, true); ok {
		t.Error("a deleted Task's output is still retained")
	}
	if bytes, tasks := e.retained.usage(); bytes != 0 || tasks != 0 {
		t.Errorf("retained %d bytes of %d Tasks after the delete", bytes, tasks)
	}
}

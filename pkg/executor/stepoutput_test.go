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
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/google/go-cmp/cmp"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/apis/arl/validation"
)

// TestStepOutput: each step gets its part of the status tails, as far as
// the tails hold it, and a stream's tail and its steps' parts together
// stay within the cap.
func TestStepOutput(t *testing.T) {
	type printed struct{ stdout, stderr string }
	for _, tc := range []struct {
		name     string
		capBytes int
		steps    []printed
		want     []printed
	}{
		{name: "each step its own output", capBytes: 100,
			steps: []printed{{"one\n", ""}, {"", "warn\n"}, {"three\n", "err\n"}},
			want:  []printed{{"one\n", ""}, {"", "warn\n"}, {"three\n", "err\n"}}},
		{name: "a step that printed nothing", capBytes: 100,
			steps: []printed{{"", ""}, {"x", ""}},
			want:  []printed{{"", ""}, {"x", ""}}},
		{name: "a full tail leaves the steps nothing", capBytes: 12,
			steps: []printed{{"0123456789", ""}, {"abcd", "e"}},
			want:  []printed{{"", ""}, {"", "e"}}},
		{name: "the steps share what the tail leaves of the cap", capBytes: 10,
			steps: []printed{{"aaa", "e"}, {"bbb", ""}},
			want:  []printed{{"a", "e"}, {"bbb", ""}}},
		// '<' takes 6 bytes as stored: a tail of 13 of them is cut to 3
		// (18 bytes) and leaves the steps 2, too few for another.
		{name: "the cap counts bytes as stored", capBytes: 20,
			steps: []printed{{"<<<<<<<<<<", ""}, {"<<<", "\x01"}},
			want:  []printed{{"", ""}, {"", "\x01"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := newOutput(tc.capBytes, 1<<10)
			var spans []stepSpan
			steps := make([]arl.StepResult, len(tc.steps))
			for _, p := range tc.steps {
				from := out.offsets()
				out.write(false, []byte(p.stdout))
				out.write(true, []byte(p.stderr))
				spans = append(spans, stepSpan{from: from, to: out.offsets()})
			}
			status := statusOutputOf(out, tc.capBytes)
			withStepOutput(steps, spans, status.firsts, status.stdout, status.stderr, tc.capBytes)
			var got []printed
			total := [2]int{validation.StoredLen(status.stdout), validation.StoredLen(status.stderr)}
			for _, s := range steps {
				got = append(got, printed{s.Stdout, s.Stderr})
				total[0] += validation.StoredLen(s.Stdout)
				total[1] += validation.StoredLen(s.Stderr)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(printed{})); diff != "" {
				t.Errorf("per-step output (-want +got):\n%s", diff)
			}
			if total[0] > tc.capBytes || total[1] > tc.capBytes {
				t.Errorf("a stream's tail and its steps' parts hold %v bytes, more than the cap %d", total, tc.capBytes)
			}
		})
	}
}

// TestStatusOutputCountsStoredBytes: a tail cut to the cap as stored says
// it was truncated, and its first offset moves with the cut, so steps'
// parts are still found in it.
func TestStatusOutputCountsStoredBytes(t *testing.T) {
	out := newOutput(100, 1<<10)
	out.write(false, []byte("ab<<<<<<<<<<cd")) // 14 bytes, 64 as stored
	s := statusOutputOf(out, 20)
	if s.stdout != "<<<cd" || !s.stdoutTruncated || s.firsts.stdout != 9 {
		t.Fatalf("tail %q truncated %v first %d; want \"<<<cd\" truncated at offset 9", s.stdout, s.stdoutTruncated, s.firsts.stdout)
	}
	if got := splitTail(s.stdout, s.firsts.stdout, 12, 14); got != "cd" {
		t.Fatalf("the last two bytes in the cut tail: %q", got)
	}
}

// TestTooLarge: etcd's and its client's size errors are told from others,
// wrapped or not.
func TestTooLarge(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{rpctypes.ErrRequestTooLarge, true},
		{fmt.Errorf("update: %w", rpctypes.ErrGRPCRequestTooLarge), true},
		{status.Error(codes.ResourceExhausted, "trying to send message larger than max (2623009 vs. 2097152)"), true},
		{errors.New("etcdserver: request is too large"), true},
		{rpctypes.ErrLeaderChanged, false},
		{status.Error(codes.Unavailable, "connection refused"), false},
		{nil, false},
	} {
		if got := tooLarge(tc.err); got != tc.want {
			t.Errorf("tooLarge(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

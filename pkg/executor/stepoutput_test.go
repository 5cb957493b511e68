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
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/arl-infra/arl/pkg/apis/arl"
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
			stdout, stderr, _, _ := out.statusOutput()
			withStepOutput(steps, spans, out.firsts(), stdout, stderr, tc.capBytes)
			var got []printed
			total := [2]int{len(stdout), len(stderr)}
			for _, s := range steps {
				got = append(got, printed{s.Stdout, s.Stderr})
				total[0] += len(s.Stdout)
				total[1] += len(s.Stderr)
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

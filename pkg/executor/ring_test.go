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
	"strings"
	"testing"
)

func TestRing(t *testing.T) {
	tests := map[string]struct {
		max       int
		writes    []string
		want      string
		truncated bool
	}{
		"empty":                {max: 8, want: ""},
		"under the cap":        {max: 8, writes: []string{"abc", "de"}, want: "abcde"},
		"exactly the cap":      {max: 8, writes: []string{"abcd", "efgh"}, want: "abcdefgh"},
		"wraps":                {max: 8, writes: []string{"abcdef", "ghij"}, want: "cdefghij", truncated: true},
		"wraps many times":     {max: 5, writes: []string{"ab", "cde", "fgh", "ijklm", "n"}, want: "jklmn", truncated: true},
		"one write over":       {max: 4, writes: []string{"abcdefghij"}, want: "ghij", truncated: true},
		"over after some":      {max: 4, writes: []string{"xy", "abcdefghij"}, want: "ghij", truncated: true},
		"zero cap keeps none":  {max: 0, writes: []string{"abc"}, want: "", truncated: true},
		"empty writes":         {max: 4, writes: []string{"", "ab", "", "c"}, want: "abc"},
		"binary bytes as they": {max: 6, writes: []string{"\x00\xff", "\xfe\x00a", "\xc3"}, want: "\x00\xff\xfe\x00a\xc3"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r := ring{max: tc.max}
			all := ""
			for _, w := range tc.writes {
				r.write([]byte(w))
				all += w
			}
			if got := r.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
			if r.truncated() != tc.truncated {
				t.Errorf("truncated() = %v, want %v", r.truncated(), tc.truncated)
			}
			if r.written != int64(len(all)) || r.first() != int64(len(all)-len(tc.want)) {
				t.Errorf("written %d first %d, want %d and %d", r.written, r.first(), len(all), len(all)-len(tc.want))
			}
			if r.size() > max(tc.max, 0) {
				t.Errorf("holds %d bytes, more than its cap %d", r.size(), tc.max)
			}
			// Every offset still kept reads back as written, in pieces
			// of every size.
			for off := r.first(); off < r.written; off++ {
				for n := 1; n <= int(r.written-off); n++ {
					p := make([]byte, n)
					if got := r.readAt(off, p); got != n || string(p) != all[off:off+int64(n)] {
						t.Fatalf("readAt(%d, %d bytes) = %d %q, want %q", off, n, got, p, all[off:off+int64(n)])
					}
				}
			}
		})
	}
}

func TestRingGrowsWithWhatItHolds(t *testing.T) {
	r := ring{max: 1 << 20}
	r.write([]byte("hello"))
	if r.size() > minRingGrowth {
		t.Errorf("5 bytes hold %d bytes of buffer", r.size())
	}
	r.write([]byte(strings.Repeat("x", 3<<20)))
	if r.size() != 1<<20 {
		t.Errorf("a full ring holds %d bytes, want its cap %d", r.size(), 1<<20)
	}
}

func TestRingResetAndRelease(t *testing.T) {
	r := ring{max: 4}
	r.write([]byte("abcdef"))
	r.reset()
	r.write([]byte("xy"))
	if r.String() != "xy" || r.truncated() {
		t.Errorf("after reset: %q truncated %v", r.String(), r.truncated())
	}
	r.release()
	if r.String() != "" || r.size() != 0 || r.first() != 2 {
		t.Errorf("after release: %q, %d bytes, first %d", r.String(), r.size(), r.first())
	}
}

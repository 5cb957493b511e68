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

package validation

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonLen is what encoding/json, the store's encoder, makes of s.
func jsonLen(t *testing.T, s string) int {
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return len(data) - 2 // the quotes
}

// TestStoredLen: every byte value alone, and text mixing escapes, runes
// and invalid UTF-8, take what encoding/json makes of them.
func TestStoredLen(t *testing.T) {
	var cases []string
	for b := 0; b < 256; b++ {
		cases = append(cases, string([]byte{byte(b)}))
	}
	cases = append(cases, "", "héllo <b>&</b>\n\t\"q\"\\", "\u2028\u2029€😀", "\xe2\x82", "ok\xffok\xc3", strings.Repeat("<\x01x", 100))
	for _, s := range cases {
		if got, want := StoredLen(s), jsonLen(t, s); got != want {
			t.Errorf("StoredLen(%q) = %d, encoding/json writes %d", s, got, want)
		}
	}
}

// FuzzStoredSuffix: the suffix fits the budget, is the end of s, and is
// the longest that does (one more rune would not fit).
func FuzzStoredSuffix(f *testing.F) {
	f.Add("héllo <b>&</b>\n\xff€", 7)
	f.Fuzz(func(t *testing.T, s string, budget int) {
		budget %= 1 << 16
		suffix := StoredSuffix(s, budget)
		if !strings.HasSuffix(s, suffix) {
			t.Fatalf("%q is not an end of %q", suffix, s)
		}
		if StoredLen(suffix) != jsonLen(t, suffix) {
			t.Fatalf("StoredLen(%q) disagrees with encoding/json", suffix)
		}
		if budget >= 0 && StoredLen(suffix) > budget {
			t.Fatalf("StoredSuffix(%q, %d) = %q takes %d", s, budget, suffix, StoredLen(suffix))
		}
		if rest := s[:len(s)-len(suffix)]; rest != "" && budget >= 0 {
			_, size := utf8.DecodeLastRuneInString(rest)
			if longer := s[len(rest)-size:]; StoredLen(longer) <= budget {
				t.Fatalf("StoredSuffix(%q, %d) = %q, but %q fits too", s, budget, suffix, longer)
			}
		}
	})
}

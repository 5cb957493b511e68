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

import "unicode/utf8"

// StoredLen is how many bytes s takes in ARL's store, which keeps objects
// as JSON: encoding/json escapes '<', '>', '&', control bytes and U+2028/9
// as six bytes (\u003c), '"', '\\', newline, tab and the like as two, and
// writes each byte that is not UTF-8 as \ufffd. A limit on what a client
// may store counts these bytes, not len(s): 1 MiB of '<' is 6 MiB in etcd.
func StoredLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		n += storedRuneLen(r, size)
		i += size
	}
	return n
}

// StoredSuffix is the longest end of s, whole runes, whose StoredLen is at
// most budget.
func StoredSuffix(s string, budget int) string {
	i := len(s)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		l := storedRuneLen(r, size)
		if l > budget {
			break
		}
		budget -= l
		i -= size
	}
	return s[i:]
}

func storedRuneLen(r rune, size int) int {
	switch {
	case r == utf8.RuneError && size == 1:
		return len(`\ufffd`)
	case r == '"', r == '\\', r == '\n', r == '\r', r == '\t', r == '\b', r == '\f':
		return 2
	case r < 0x20, r == '<', r == '>', r == '&', r == '\u2028', r == '\u2029':
		return len(`\u0000`)
	}
	return size
}

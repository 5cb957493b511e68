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

package growstack

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWithGrownStackServesTheRequest(t *testing.T) {
	h := WithGrownStack(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(r.URL.Path))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/apis/arl.infra.io", nil))
	if rec.Code != http.StatusTeapot || rec.Body.String() != "/apis/arl.infra.io" {
		t.Fatalf("got %d %q, want the wrapped handler's 418 and the request's path", rec.Code, rec.Body.String())
	}
}

// chain is a handler chain as deep as the generic apiserver's: depth
// nested filters with a 512-byte frame each.
func chain(depth int) http.Handler {
	var h http.Handler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for range depth {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			filterFrame(next, w, r)
		})
	}
	return h
}

//go:noinline
func filterFrame(next http.Handler, w http.ResponseWriter, r *http.Request) {
	var frame [512]byte
	frame[index] = 1
	next.ServeHTTP(w, r)
	sink = frame[index]
}

var sink byte

// BenchmarkRequestOnFreshGoroutine serves each request on a new goroutine,
// as net/http and its HTTP/2 server do, through a chain of about 50 KiB of
// stack: with the stack grown at the top, and left to grow on the way down.
func BenchmarkRequestOnFreshGoroutine(b *testing.B) {
	deep := chain(100)
	for _, bc := range []struct {
		name    string
		handler http.Handler
	}{
		{"growing", deep},
		{"grown", WithGrownStack(deep)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for b.Loop() {
				done := make(chan struct{})
				go func() {
					bc.handler.ServeHTTP(nil, r)
					close(done)
				}()
				<-done
			}
		})
	}
}

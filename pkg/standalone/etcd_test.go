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

package standalone

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestFreeLocalURL: an http URL on a loopback port nobody holds, which
// the caller can listen on.
func TestFreeLocalURL(t *testing.T) {
	u, err := FreeLocalURL()
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "0" || u.Port() == "" {
		t.Fatalf("got %s, want http://127.0.0.1:<port>", u)
	}
	l, err := net.Listen("tcp", u.Host)
	if err != nil {
		t.Fatalf("the port is not free: %v", err)
	}
	_ = l.Close()
}

// TestStartEtcd: the embedded etcd is serving (healthy) once StartEtcd
// returns, keeps its data in the directory given, and stops on Close.
func TestStartEtcd(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "etcd")
	u, err := FreeLocalURL()
	if err != nil {
		t.Fatal(err)
	}
	e, err := StartEtcd(context.Background(), dataDir, u)
	if err != nil {
		t.Fatal(err)
	}
	if e.ClientURL != u.String() {
		t.Errorf("ClientURL %s, want %s", e.ClientURL, u)
	}
	resp, err := http.Get(e.ClientURL + "/health")
	if err != nil {
		e.Close()
		t.Fatalf("etcd does not answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"health":"true"`) {
		t.Errorf("etcd health: %s", body)
	}
	if matches, _ := filepath.Glob(filepath.Join(dataDir, "member", "wal", "*.wal")); len(matches) == 0 {
		t.Errorf("no write-ahead log in %s", dataDir)
	}
	e.Close()
	if resp, err := http.Get(e.ClientURL + "/health"); err == nil {
		resp.Body.Close()
		t.Error("etcd still answers after Close")
	}
}

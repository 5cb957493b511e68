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

package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/cmd/arl-apiserver/app/options"
	"github.com/arl-infra/arl/pkg/standalone"
	"github.com/arl-infra/arl/pkg/storeguard"
	"github.com/arl-infra/arl/test/integration/framework"
)

// externalEtcd is a real etcd in this test process, on a fixed URL, that
// the test can stop, wipe or replace under a running arl-apiserver.
type externalEtcd struct {
	t    *testing.T
	dir  string
	url  *url.URL
	etcd *standalone.Etcd
}

func startExternalEtcd(t *testing.T) *externalEtcd {
	u, err := standalone.FreeLocalURL()
	if err != nil {
		t.Fatal(err)
	}
	e := &externalEtcd{t: t, dir: filepath.Join(t.TempDir(), "etcd"), url: u}
	e.start()
	t.Cleanup(func() {
		if e.etcd != nil {
			e.etcd.Close()
		}
	})
	return e
}

func (e *externalEtcd) start() {
	etcd, err := standalone.StartEtcd(context.Background(), e.dir, e.url)
	if err != nil {
		e.t.Fatal(err)
	}
	e.etcd = etcd
}

// wipe stops etcd, deletes its data and starts an empty one at the same
// URL: what a lost volume (an emptyDir, a deleted PVC) does.
func (e *externalEtcd) wipe() {
	e.etcd.Close()
	e.etcd = nil
	if err := os.RemoveAll(e.dir); err != nil {
		e.t.Fatal(err)
	}
	e.start()
}

func (e *externalEtcd) client() *clientv3.Client {
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{e.url.String()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

// liveSandboxes counts the local sandboxes whose agent process is alive.
func liveSandboxes(t *testing.T, s *framework.Standalone) int {
	metas, _ := filepath.Glob(filepath.Join(s.DataDir, "pods", "*", "*", "pod.json"))
	n := 0
	for _, path := range metas {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var meta struct {
			PID int `json:"pid"`
		}
		if json.Unmarshal(data, &meta) == nil && meta.PID > 0 && syscall.Kill(meta.PID, 0) == nil {
			n++
		}
	}
	return n
}

func waitRefusal(t *testing.T, s *framework.Standalone, want string) {
	t.Helper()
	framework.Eventually(t, 30*time.Second, "the server to refuse its store (readyz arl-store-identity failing)", func() bool {
		body, ready := s.Readyz()
		return !ready && strings.Contains(body, "[-]arl-store-identity failed")
	})
	framework.Eventually(t, 30*time.Second, "the refusal in the log", func() bool {
		return strings.Contains(s.Logs(), "REFUSING TO SERVE") && strings.Contains(s.Logs(), want)
	})
	_, err := s.Clientset().ArlV1alpha1().WarmPools("default").List(context.Background(), metav1.ListOptions{})
	if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), "refuses to serve") {
		t.Fatalf("list warmpools from a refused store: %v, want 503 saying it refuses to serve", err)
	}
}

// TestEmptiedStoreIsNeverServed wipes the etcd under a running server:
// it stops serving its cache (not ready, 503, a log line), keeps every
// sandbox, refuses the empty store again after a restart, and serves it
// only once the administrator removed the store record.
func TestEmptiedStoreIsNeverServed(t *testing.T) {
	etcd := startExternalEtcd(t)
	server := framework.StartStandalone(t, "--etcd-servers="+etcd.url.String())
	k := server.Kubectl()
	k.MustRun("apply", "-f", examplesDir(t))
	k.MustRun("wait", "--for=jsonpath={.status.state}=Succeeded", "task/hello-task", "--timeout=120s")
	// The example pool's 3 idle sandboxes and the one hello-task's Sandbox
	// holds: the refill of the bound one may start a few seconds after the
	// bind (refills wait for a burst of binds to pass).
	framework.Eventually(t, 60*time.Second, "the pool's sandboxes to run", func() bool { return liveSandboxes(t, server) >= 4 })
	sandboxes := liveSandboxes(t, server)

	etcd.wipe()
	waitRefusal(t, server, "has no ARL marker")
	if out := k.Run("", "get", "warmpools"); out.Err == nil || !strings.Contains(out.Stderr, "refuses to serve") {
		t.Errorf("kubectl get warmpools on a refused store: %v\n%s%s", out.Err, out.Stdout, out.Stderr)
	}

	// A restart refuses it too: the record is outside etcd.
	server.Stop()
	server.StartUnready()
	waitRefusal(t, server, "has no ARL marker")
	if got := liveSandboxes(t, server); got != sandboxes {
		t.Fatalf("%d of %d sandboxes left while the store was refused", got, sandboxes)
	}

	// The administrator accepts the empty store: remove the record, restart.
	if err := os.Remove(filepath.Join(server.DataDir, options.StoreRecordFile)); err != nil {
		t.Fatal(err)
	}
	server.Stop()
	server.Start()
	if out := k.MustRun("get", "warmpools,sandboxes,tasks", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Fatalf("the accepted store is empty, the server lists:\n%s", out)
	}
	// Its pool is missing but was never seen deleted: its sandboxes stay,
	// for the administrator to delete (the log says how).
	framework.Eventually(t, 30*time.Second, "the kept pods to be reported", func() bool {
		return strings.Contains(server.Logs(), "Keeping the pods of a WarmPool missing from ARL's store")
	})
	if got := liveSandboxes(t, server); got != sandboxes {
		t.Fatalf("%d of %d sandboxes left after the empty store was accepted", got, sandboxes)
	}
}

// TestReplacedStoreIsRefused puts another installation's etcd under a
// running server.
func TestReplacedStoreIsRefused(t *testing.T) {
	etcd := startExternalEtcd(t)
	server := framework.StartStandalone(t, "--etcd-servers="+etcd.url.String())
	server.Kubectl().MustRun("get", "warmpools")

	etcd.wipe()
	marker, err := json.Marshal(map[string]string{"uid": "another-installation"})
	if err != nil {
		t.Fatal(err)
	}
	c := etcd.client()
	ctx := context.Background()
	if _, err := c.Put(ctx, storeguard.MarkerKey(options.EtcdPathPrefix), string(marker)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := c.Put(ctx, fmt.Sprintf("/unrelated/%d", i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	waitRefusal(t, server, "not store")
}

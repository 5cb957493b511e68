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

package options

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/rest"

	"github.com/arl-infra/arl/pkg/apiserver"
)

// TestApplyKubeCallsNoAPI: building the cluster config only builds; the
// sidecar CA, the Events sink, the Leases and the pool start in the
// server's post-start hooks.
func TestApplyKubeCallsNoAPI(t *testing.T) {
	var requests atomic.Int32
	kubeAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		t.Errorf("building the config called the API: %s %s", r.Method, r.URL.Path)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer kubeAPI.Close()

	o, err := parseFlags(t)
	if err != nil {
		t.Fatal(err)
	}
	var extra apiserver.ExtraConfig
	if _, err := o.Pool.applyKube(&extra, &rest.Config{Host: kubeAPI.URL}, 8443, storagebackend.Config{Transport: storagebackend.TransportConfig{ServerList: []string{"https://127.0.0.1:1"}}, Prefix: "/registry"}); err != nil {
		t.Fatal(err)
	}
	if extra.PoolRuntime == nil || extra.Recorder == nil || extra.EventBroadcaster == nil || extra.EventSink == nil {
		t.Errorf("the config lacks the runtime or the Events' recorder, broadcaster or sink: %+v", extra)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d API calls while building the config, want none", n)
	}
}

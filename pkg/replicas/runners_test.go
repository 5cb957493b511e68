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

package replicas

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
)

// TestRunnerLeaseAnnouncesAddress: a replica's Lease says where it serves,
// for as long as it is kept; a runner without a Lease has no address.
func TestRunnerLeaseAnnouncesAddress(t *testing.T) {
	client := fake.NewClientset()
	a := NewRunnerLeases(client, "arl-system", "replica-a", "10.0.0.1:8443")
	b := NewRunnerLeases(client, "arl-system", "replica-b", "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		a.Keep(ctx)
		close(done)
	}()

	var got string
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		got, err = b.AddressOf(ctx, "replica-a")
		return got != "", err
	})
	if err != nil || got != "10.0.0.1:8443" {
		t.Fatalf("replica-a's address seen by replica-b: %q, %v", got, err)
	}
	if addr, err := a.AddressOf(context.Background(), "replica-c"); addr != "" || err != nil {
		t.Errorf("a replica without a Lease: address %q, %v; want none", addr, err)
	}

	cancel()
	<-done
	if addr, err := b.AddressOf(context.Background(), "replica-a"); addr != "" || err != nil {
		t.Errorf("after replica-a stopped (its Lease deleted): address %q, %v; want none", addr, err)
	}
}

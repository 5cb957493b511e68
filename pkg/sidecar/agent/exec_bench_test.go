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

package agent_test

import (
	"context"
	"testing"

	"github.com/arl-infra/arl/pkg/sidecar/client"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

// BenchmarkExecuteTrue is the agent's Execute of `true` over its unix
// socket, 16 callers on 2 cores as under an agent's parallel tool calls.
// Its floor is procutil's BenchmarkSpawnForkExecFloor (the fork/exec and
// wait alone):
//
//	go test -trimpath -run '^$' -bench 'ExecuteTrue|Spawn' -cpu 2 ./pkg/sidecar/agent/ ./pkg/sidecar/procutil/
func BenchmarkExecuteTrue(b *testing.B) {
	ta := startAgent(b, nil)
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := ta.Run(context.Background(), cmd("true"))
			if err != nil {
				b.Error(err)
				return
			}
			if res.ExitCode != 0 {
				b.Errorf("true exited %d", res.ExitCode)
				return
			}
		}
	})
}

// BenchmarkSandboxFence is the cost of the Sandbox fence (the UID in the
// metadata, the agent's check, a cancellable context) on a call that does
// little else, a Stat of the workspace, against the same call for no
// Sandbox:
//
//	go test -trimpath -run '^$' -bench SandboxFence -cpu 2 ./pkg/sidecar/agent/
func BenchmarkSandboxFence(b *testing.B) {
	ta := startAgent(b, nil)
	for _, bc := range []struct {
		name   string
		client *client.Client
	}{{"no Sandbox", ta.Client}, {"for a Sandbox", ta.ForSandbox("8a6f0c8e-6a4e-4b43-9d67-3f0c2b1f5a10")}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bc.client.Stat(context.Background(), &agentv1.StatRequest{Path: "."}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

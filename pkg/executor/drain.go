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

// Busy counts the Tasks this replica is running, and those queued behind
// one of them (they start as it ends): what a stopping replica lets finish
// before it cuts the rest (a rollout must not fail Tasks that take a
// moment). Tasks waiting for their Sandbox to become Ready do not count.
func (e *Executor) Busy() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, q := range e.queues {
		if q.busy {
			n += 1 + len(q.waiting)
		}
	}
	return n
}

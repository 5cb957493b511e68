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

package pool

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// syncWait bounds how long a create waits for the caches after a start.
const syncWait = 30 * time.Second

// Bind is the Sandbox create path's bind (see Binder.Bind). Right after
// the server starts it waits for the caches, so it never reports a pool
// missing that the cache has not loaded yet.
func (c *Controller) Bind(ctx context.Context, sandbox *arl.Sandbox) (arl.SandboxStatus, func(), error) {
	if !c.HasSynced() {
		err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, syncWait, true, func(context.Context) (bool, error) {
			return c.HasSynced(), nil
		})
		if err != nil {
			return arl.SandboxStatus{}, nil, apierrors.NewServiceUnavailable(fmt.Sprintf("the pool manager is still loading its caches: %v", err))
		}
	}
	return c.binder.Bind(ctx, sandbox)
}

// Release frees the pod of a deleted Sandbox (see Binder.Release).
func (c *Controller) Release(ctx context.Context, sandbox *arl.Sandbox) {
	c.binder.Release(ctx, sandbox)
}

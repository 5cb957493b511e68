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

package client

import (
	"context"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
)

// Pool keeps one Client (one gRPC connection) per target address, created on
// first use. Forget a target when its pod goes away: a pod IP is reused by
// other pods.
type Pool struct {
	opts []grpc.DialOption

	mu      sync.Mutex
	clients map[string]*Client
}

// NewPool returns an empty pool; opts are added to every Dial.
func NewPool(opts ...grpc.DialOption) *Pool {
	return &Pool{opts: opts, clients: map[string]*Client{}}
}

// Get returns the client of t.Address, dialing (lazily) on first use. A
// client closed behind the pool's back is replaced.
func (p *Pool) Get(ctx context.Context, t Target) (*Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[t.Address]; ok {
		if c.conn.GetState() != connectivity.Shutdown {
			return c, nil
		}
		delete(p.clients, t.Address)
	}
	c, err := Dial(ctx, t, p.opts...)
	if err != nil {
		return nil, err
	}
	p.clients[t.Address] = c
	return c, nil
}

// Forget closes and drops the client of address, if any.
func (p *Pool) Forget(address string) {
	p.mu.Lock()
	c, ok := p.clients[address]
	delete(p.clients, address)
	p.mu.Unlock()
	if ok {
		c.Close()
	}
}

// Len is the number of clients held.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.clients)
}

// Close closes every client.
func (p *Pool) Close() {
	p.mu.Lock()
	clients := p.clients
	p.clients = map[string]*Client{}
	p.mu.Unlock()
	for _, c := range clients {
		c.Close()
	}
}

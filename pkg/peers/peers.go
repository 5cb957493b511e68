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

// Package peers reaches the arl-apiserver replica that runs a Task, for
// what only that replica holds: the output of a running Task (its log,
// followed) and the exact bytes of one that finished moments ago.
//
// kube-apiserver sends each request to any replica; the one that gets a
// Task's log request but does not run the Task asks the runner for it,
// directly, as kube-apiserver itself would: HTTPS to the runner's pod
// address (from its runner Lease), checked against the APIService's
// caBundle and service name, authenticated with this replica's own
// credentials (its service account may get tasks/log). The user was
// authorized for the log by the replica they reached.
package peers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// ErrUnreachable: no replica can be asked (the runner announced no
// address, its Lease is gone, or it is this replica). The caller answers
// from what the store holds.
var ErrUnreachable = errors.New("the replica running the Task cannot be reached")

// Resolver returns the address (host:port) the runner replica serves on,
// "" when it announced none or is gone.
type Resolver func(ctx context.Context, runner string) (string, error)

// Trust is what a replica's serving certificate is checked against: the
// APIService's caBundle and the DNS name of its service.
type Trust struct {
	CAData     []byte
	ServerName string
	// Insecure mirrors an APIService with insecureSkipTLSVerify.
	Insecure bool
}

// TrustSource reads the current Trust (the APIService).
type TrustSource func(ctx context.Context) (Trust, error)

// Config is what a Client needs.
type Config struct {
	// Credentials is this replica's client configuration towards
	// kube-apiserver: its bearer token or client certificate are what it
	// presents to the runner replica.
	Credentials *rest.Config
	// Self is this replica's own address: it is never asked.
	Self    string
	Resolve Resolver
	Trust   TrustSource
}

// Client asks other replicas for what they hold.
type Client struct {
	cfg Config

	mu     sync.Mutex
	trust  *Trust
	client *http.Client
	// addresses are the runners' addresses already resolved: a runner's
	// identity is one process, which never moves. A runner gone since is
	// found out by the call failing.
	addresses map[string]string
}

// maxAddresses bounds the resolved addresses kept (a few replicas' worth,
// over many restarts).
const maxAddresses = 256

// New returns a Client.
func New(cfg Config) *Client { return &Client{cfg: cfg} }

// OpenLog streams GET tasks/{name}/log from the replica named runner, with
// query (follow, raw). ErrUnreachable when there is no replica to ask; an
// API status error is the runner's own answer.
func (c *Client) OpenLog(ctx context.Context, runner, namespace, name string, query url.Values) (io.ReadCloser, error) {
	addr, err := c.resolve(ctx, runner)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	if addr == "" || addr == c.cfg.Self {
		return nil, ErrUnreachable
	}
	path := (&url.URL{
		Scheme:   "https",
		Host:     addr,
		Path:     fmt.Sprintf("/apis/arl.infra.io/v1alpha1/namespaces/%s/tasks/%s/log", namespace, name),
		RawQuery: query.Encode(),
	}).String()
	resp, err := c.get(ctx, path, false)
	if err != nil {
		// A rotated CA shows as a failed verification: read the
		// APIService again and retry once.
		klog.FromContext(ctx).V(2).Info("Asking the runner replica failed; retrying with a fresh caBundle", "runner", runner, "address", addr, "err", err)
		if resp, err = c.get(ctx, path, true); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
		}
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Body, nil
	}
	defer func() { _ = resp.Body.Close() }()
	return nil, statusError(resp)
}

// resolve is Resolve, remembered: every forwarded request would otherwise
// read the runner's Lease from kube-apiserver first.
func (c *Client) resolve(ctx context.Context, runner string) (string, error) {
	c.mu.Lock()
	addr, ok := c.addresses[runner]
	c.mu.Unlock()
	if ok {
		return addr, nil
	}
	addr, err := c.cfg.Resolve(ctx, runner)
	if err != nil || addr == "" {
		return addr, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.addresses == nil || len(c.addresses) >= maxAddresses {
		c.addresses = map[string]string{}
	}
	c.addresses[runner] = addr
	return addr, nil
}

func (c *Client) get(ctx context.Context, path string, refresh bool) (*http.Response, error) {
	client, err := c.httpClient(ctx, refresh)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}

// httpClient is built from the Trust once, and again when refresh asks.
func (c *Client) httpClient(ctx context.Context, refresh bool) (*http.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client != nil && !refresh {
		return c.client, nil
	}
	trust, err := c.cfg.Trust(ctx)
	if err != nil {
		return nil, err
	}
	if c.client != nil && c.trust != nil && string(c.trust.CAData) == string(trust.CAData) &&
		c.trust.ServerName == trust.ServerName && c.trust.Insecure == trust.Insecure {
		return c.client, nil
	}
	// The same credentials, another server to trust.
	cfg := rest.CopyConfig(c.cfg.Credentials)
	cfg.TLSClientConfig.CAData, cfg.TLSClientConfig.CAFile = trust.CAData, ""
	cfg.TLSClientConfig.ServerName, cfg.TLSClientConfig.Insecure = trust.ServerName, trust.Insecure
	// A followed log lasts as long as its Task: no overall timeout.
	cfg.Timeout = 0
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	c.client, c.trust = client, &trust
	return client, nil
}

// statusError turns the runner's error answer into the same API error.
func statusError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	status := metav1.Status{}
	if err := json.Unmarshal(body, &status); err == nil && status.Kind == "Status" {
		return &apierrors.StatusError{ErrStatus: status}
	}
	return apierrors.NewGenericServerResponse(resp.StatusCode, http.MethodGet,
		schema.GroupResource{Group: "arl.infra.io", Resource: "tasks"}, "", string(body), 0, false)
}

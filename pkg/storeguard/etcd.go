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

package storeguard

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apiserver/pkg/storage/storagebackend"

	"github.com/arl-infra/arl/pkg/etcdclient"
)

// MarkerKey is the store's marker key: beside the resources' prefixes
// (no object name starts with a dot), so no list of a resource sees it.
func MarkerKey(pathPrefix string) string { return path.Join("/", pathPrefix, ".arl-store") }

// marker is the value of the marker key.
type marker struct {
	UID     string    `json:"uid"`
	Created time.Time `json:"created"`
}

// Probe reads and marks a store.
type Probe interface {
	// Observe reads the marker with a quorum read.
	Observe(ctx context.Context) (Observation, error)
	// CreateMarker writes the marker unless the key exists (another
	// replica may write it first: both then observe the winner's).
	CreateMarker(ctx context.Context, uid string) error
	// String names the store, for logs.
	String() string
}

// etcdProbe is a Probe over ARL's etcd, with the client settings the
// server's storage uses.
type etcdProbe struct {
	client    *clientv3.Client
	key       string
	endpoints []string
}

// NewEtcdProbe connects (lazily) to the etcd of transport; Close releases it.
func NewEtcdProbe(cfg storagebackend.TransportConfig, pathPrefix string) (Probe, func() error, error) {
	client, err := etcdclient.New(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("the store guard: %w", err)
	}
	return &etcdProbe{client: client, key: MarkerKey(pathPrefix), endpoints: cfg.ServerList}, client.Close, nil
}

func (p *etcdProbe) String() string { return strings.Join(p.endpoints, ",") }

func (p *etcdProbe) Observe(ctx context.Context) (Observation, error) {
	resp, err := p.client.Get(ctx, p.key)
	if err != nil {
		return Observation{}, err
	}
	obs := Observation{ClusterID: fmt.Sprintf("%x", resp.Header.ClusterId), Revision: resp.Header.Revision}
	if len(resp.Kvs) > 0 {
		var m marker
		if err := json.Unmarshal(resp.Kvs[0].Value, &m); err != nil || m.UID == "" {
			// Not ours to repair: an unreadable marker is not this store's.
			obs.Marker = "unreadable:" + string(resp.Kvs[0].Value)
		} else {
			obs.Marker = m.UID
		}
	}
	return obs, nil
}

func (p *etcdProbe) CreateMarker(ctx context.Context, uid string) error {
	value, err := json.Marshal(marker{UID: uid, Created: time.Now().UTC()})
	if err != nil {
		return err
	}
	_, err = p.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(p.key), "=", 0)).
		Then(clientv3.OpPut(p.key, string(value))).
		Commit()
	return err
}

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

package claims

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/storage"
	"k8s.io/apiserver/pkg/storage/etcd3"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/storage/value"
	"k8s.io/apiserver/pkg/storage/value/encrypt/identity"

	"github.com/arl-infra/arl/pkg/pool"
)

// deferredClaim is a bind's claim left in its Sandbox create's
// pool.ClaimSlot by Runtime.Claim.
type deferredClaim struct {
	runtime *Runtime
	claim   Claim
}

// SandboxStorage wraps the Sandboxes' storage (inner, made from config
// for resourcePrefix): a create whose context holds a deferred claim
// writes the Sandbox and the claim in one etcd transaction, so a bind is
// one write to ARL's etcd. Everything else is inner's. The ledger's etcd
// must be the Sandboxes' own.
func (r *Runtime) SandboxStorage(inner storage.Interface, config *storagebackend.ConfigForResource, resourcePrefix string) storage.Interface {
	transformer := config.Transformer
	if transformer == nil {
		transformer = identity.NewEncryptCheckTransformer()
	}
	versioner := storage.APIObjectVersioner{}
	pathPrefix := path.Join("/", config.Prefix)
	if !strings.HasSuffix(pathPrefix, "/") {
		pathPrefix += "/"
	}
	return &sandboxStorage{
		Interface:      inner,
		ledger:         r.ledger,
		codec:          config.Codec,
		transformer:    transformer,
		versioner:      versioner,
		decoder:        etcd3.NewDefaultDecoder(config.Codec, versioner),
		pathPrefix:     pathPrefix,
		resourcePrefix: resourcePrefix,
	}
}

type sandboxStorage struct {
	storage.Interface
	ledger      *Ledger
	codec       runtime.Codec
	transformer value.Transformer
	versioner   storage.Versioner
	decoder     etcd3.Decoder
	// pathPrefix and resourcePrefix make a storage key an etcd key, as the
	// etcd3 store does.
	pathPrefix, resourcePrefix string
}

// Create implements storage.Interface. A deferred claim whose pod was
// claimed meanwhile fails the create with pool.ErrConflict and stores
// nothing: the caller binds another pod.
func (s *sandboxStorage) Create(ctx context.Context, key string, obj, out runtime.Object, ttl uint64) error {
	deferred, ok := pool.DeferredClaim(ctx).(*deferredClaim)
	if !ok {
		return s.Interface.Create(ctx, key, obj, out, ttl)
	}
	if ttl != 0 {
		return storage.NewInternalError(errors.New("a Sandbox written with its pod's claim cannot have a TTL"))
	}
	etcdKey, err := s.etcdKey(key)
	if err != nil {
		return err
	}
	// What the etcd3 store does before a create.
	if version, err := s.versioner.ObjectResourceVersion(obj); err == nil && version != 0 {
		return storage.ErrResourceVersionSetOnCreate
	}
	if err := s.versioner.PrepareObjectForStorage(obj); err != nil {
		return fmt.Errorf("PrepareObjectForStorage failed: %w", err)
	}
	data, err := runtime.Encode(s.codec, obj)
	if err != nil {
		return err
	}
	stored, err := s.transformer.TransformToStorage(ctx, data, authenticatedKey(etcdKey))
	if err != nil {
		return storage.NewInternalError(err)
	}

	revision, err := s.ledger.createWith(ctx, deferred.claim, etcdKey, stored)
	switch {
	case errors.Is(err, ErrTaken):
		return pool.ErrConflict
	case errors.Is(err, errKeyExists):
		return storage.NewKeyExistsError(etcdKey, 0)
	case err != nil:
		return err
	}
	deferred.runtime.labels.AddAfter(deferred.claim.UID, labelDelay)
	if out == nil {
		return nil
	}
	return s.decoder.Decode(data, out, revision)
}

func (s *sandboxStorage) etcdKey(key string) (string, error) {
	key, err := storage.PrepareKey(s.resourcePrefix, key, false)
	if err != nil {
		return "", err
	}
	return s.pathPrefix + strings.TrimPrefix(key, "/"), nil
}

// authenticatedKey binds a stored value to its key, as the etcd3 store's
// transformers expect (value.Context).
type authenticatedKey string

func (k authenticatedKey) AuthenticatedData() []byte { return []byte(k) }

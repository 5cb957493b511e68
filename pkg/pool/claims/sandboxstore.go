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

	clientv3 "go.etcd.io/etcd/client/v3"
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

// deferredRelease is a Sandbox delete's release of its pod's claim, left
// by Runtime.DeferRelease for the delete's transaction.
type deferredRelease struct {
	claim Claim
}

// DeferRelease implements pool.DeferredReleaser: the pod's claim, when
// its Sandbox holds it, is deleted with the Sandbox (sandboxStorage.Delete).
// The labels follow in the Sandbox's Release.
func (r *Runtime) DeferRelease(p *pool.Pod) any {
	c, ok := r.ledger.Get(p.UID)
	if !ok || c.Sandbox == "" || c.Sandbox != p.Sandbox {
		return nil
	}
	return &deferredRelease{claim: c}
}

// Delete implements storage.Interface. A delete whose context has a
// pool.ReleaseSlot is the etcd3 store's conditional delete, read from etcd
// (never the cache: the release acts on what it reads), with the slot's
// release, if any, in the same transaction.
func (s *sandboxStorage) Delete(ctx context.Context, key string, out runtime.Object, preconditions *storage.Preconditions,
	validateDeletion storage.ValidateObjectFunc, cachedExistingObject runtime.Object, opts storage.DeleteOptions) error {
	if !pool.HasReleaseSlot(ctx) {
		return s.Interface.Delete(ctx, key, out, preconditions, validateDeletion, cachedExistingObject, opts)
	}
	etcdKey, err := s.etcdKey(key)
	if err != nil {
		return err
	}
	empty := out.DeepCopyObject()
	var release *deferredRelease
	prepared := false
	for {
		resp, err := s.ledger.client.Get(ctx, etcdKey)
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			return storage.NewKeyNotFoundError(key, 0)
		}
		kv := resp.Kvs[0]
		data, _, err := s.transformer.TransformFromStorage(ctx, kv.Value, authenticatedKey(etcdKey))
		if err != nil {
			return storage.NewInternalError(err)
		}
		current := empty.DeepCopyObject()
		if err := s.decoder.Decode(data, current, kv.ModRevision); err != nil {
			return err
		}
		if preconditions != nil {
			if err := preconditions.Check(key, current); err != nil {
				return err
			}
		}
		if err := validateDeletion(ctx, current); err != nil {
			return err
		}
		if !prepared {
			prepared = true
			release, _ = pool.PrepareRelease(ctx, current).(*deferredRelease)
		}
		var revision int64
		if release != nil {
			revision, err = s.ledger.deleteWith(ctx, release.claim, etcdKey, kv.ModRevision)
		} else {
			revision, err = s.deleteAlone(ctx, etcdKey, kv.ModRevision)
		}
		switch {
		case errors.Is(err, errClaimMoved):
			// Released after the delete, the usual way.
			release = nil
			continue
		case errors.Is(err, errKeyMoved):
			continue
		case err != nil:
			return err
		}
		return s.decoder.Decode(data, out, revision)
	}
}

// deleteAlone deletes key if it is still at revision (errKeyMoved if not).
func (s *sandboxStorage) deleteAlone(ctx context.Context, key string, revision int64) (int64, error) {
	resp, err := s.ledger.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", revision)).
		Then(clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return 0, err
	}
	if !resp.Succeeded {
		return 0, errKeyMoved
	}
	return resp.Header.Revision, nil
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

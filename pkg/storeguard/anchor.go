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
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Anchor keeps an installation's Record outside its etcd.
type Anchor interface {
	// Load returns the Record, or nil when there is none.
	Load(ctx context.Context) (*Record, error)
	// Save stores rec, never lowering the recorded revision; it fails when
	// the anchor records another store.
	Save(ctx context.Context, rec Record) error
	// String says where the anchor is.
	String() string
	// ClearHint tells an administrator how to accept the store as it is.
	ClearHint() string
}

func mismatch(anchor Anchor, have *Record, rec Record) error {
	return fmt.Errorf("%s records store %s (etcd cluster %s), not store %s (etcd cluster %s)",
		anchor, have.StoreUID, have.ClusterID, rec.StoreUID, rec.ClusterID)
}

// FileAnchor keeps the Record in a file (standalone mode: the data
// directory, beside the embedded etcd's own).
type FileAnchor struct{ Path string }

var _ Anchor = FileAnchor{}

func (a FileAnchor) String() string { return "file " + a.Path }

func (a FileAnchor) ClearHint() string {
	return fmt.Sprintf("if this store is the one to serve (e.g. restored on purpose), remove %s and start arl-apiserver again", a.Path)
}

func (a FileAnchor) Load(context.Context) (*Record, error) {
	data, err := os.ReadFile(a.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rec Record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, fmt.Errorf("%s is not a store record (remove it to record the store anew): %w", a.Path, err)
	}
	if rec.StoreUID == "" {
		return nil, fmt.Errorf("%s is not a store record (remove it to record the store anew): it names no store", a.Path)
	}
	return &rec, nil
}

func (a FileAnchor) Save(ctx context.Context, rec Record) error {
	have, err := a.Load(ctx)
	if err != nil {
		return err
	}
	if have != nil {
		if have.StoreUID != rec.StoreUID || have.ClusterID != rec.ClusterID {
			return mismatch(a, have, rec)
		}
		if have.Revision >= rec.Revision {
			return nil
		}
	}
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	tmp := a.Path + ".tmp"
	if err := os.MkdirAll(filepath.Dir(a.Path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, a.Path)
}

// ConfigMapAnchor keeps the Record in a ConfigMap (in a cluster: the
// server's namespace, which an uninstall deletes with the etcd).
type ConfigMapAnchor struct {
	Client    kubernetes.Interface
	Namespace string
	Name      string
}

var _ Anchor = ConfigMapAnchor{}

const (
	keyStoreUID  = "storeUID"
	keyClusterID = "clusterID"
	keyRevision  = "revision"
)

func (a ConfigMapAnchor) String() string { return "ConfigMap " + a.Namespace + "/" + a.Name }

func (a ConfigMapAnchor) ClearHint() string {
	return fmt.Sprintf("if this store is the one to serve (e.g. restored on purpose): kubectl -n %s delete configmap %s && kubectl -n %s rollout restart deployment arl-apiserver",
		a.Namespace, a.Name, a.Namespace)
}

func (a ConfigMapAnchor) Load(ctx context.Context) (*Record, error) {
	cm, err := a.Client.CoreV1().ConfigMaps(a.Namespace).Get(ctx, a.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return a.recordOf(cm)
}

func (a ConfigMapAnchor) recordOf(cm *corev1.ConfigMap) (*Record, error) {
	rev, err := strconv.ParseInt(cm.Data[keyRevision], 10, 64)
	rec := &Record{StoreUID: cm.Data[keyStoreUID], ClusterID: cm.Data[keyClusterID], Revision: rev}
	if err != nil || rec.StoreUID == "" || rec.ClusterID == "" {
		return nil, fmt.Errorf("%s is not a store record (delete it to record the store anew)", a)
	}
	return rec, nil
}

func (a ConfigMapAnchor) Save(ctx context.Context, rec Record) error {
	cms := a.Client.CoreV1().ConfigMaps(a.Namespace)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm, err := cms.Get(ctx, a.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: a.Name, Namespace: a.Namespace,
				Labels: map[string]string{"app.kubernetes.io/name": "arl-apiserver", "app.kubernetes.io/part-of": "arl"},
				Annotations: map[string]string{"arl.infra.io/purpose": "The etcd store arl-apiserver serves: it refuses an etcd " +
					"that lacks this store's marker, has another cluster ID, or a lower revision. Delete it only to accept the store as it is."}}}
			setRecord(cm, rec)
			_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				// Another replica recorded it first: compare with theirs.
				return apierrors.NewConflict(corev1.Resource("configmaps"), a.Name, err)
			}
			return err
		}
		if err != nil {
			return err
		}
		have, err := a.recordOf(cm)
		if err != nil {
			return err
		}
		if have.StoreUID != rec.StoreUID || have.ClusterID != rec.ClusterID {
			return mismatch(a, have, rec)
		}
		if have.Revision >= rec.Revision {
			return nil
		}
		setRecord(cm, rec)
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
}

func setRecord(cm *corev1.ConfigMap, rec Record) {
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	cm.Data[keyStoreUID] = rec.StoreUID
	cm.Data[keyClusterID] = rec.ClusterID
	cm.Data[keyRevision] = strconv.FormatInt(rec.Revision, 10)
}

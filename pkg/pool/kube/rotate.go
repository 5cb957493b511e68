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

package kube

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
)

// rotateInterval is how often certificates are checked for renewal.
const rotateInterval = time.Hour

// rotate renews, while pods run, this replica's client certificate and
// every namespace's sidecar Secret past two thirds of their life. A
// sidecar re-reads its Secret volume when kubelet updates it; the
// installation's CA stays, so both ends trust old and new certificates.
func (r *Runtime) rotate(ctx context.Context) {
	wait.UntilWithContext(ctx, func(ctx context.Context) {
		logger := klog.FromContext(ctx)
		now := time.Now()
		if err := r.creds.renewClientCert(now); err != nil {
			logger.Error(err, "Renewing this replica's sidecar client certificate failed")
		}
		secrets, err := r.opts.Client.CoreV1().Secrets(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("metadata.name", TLSSecret).String(),
		})
		if err != nil {
			logger.Error(err, "Listing the sidecar TLS Secrets failed")
			return
		}
		for i := range secrets.Items {
			secret := &secrets.Items[i]
			why := r.creds.sidecarSecretDue(secret, now)
			if why == "" {
				continue
			}
			fresh, err := r.creds.sidecarSecret(secret.Namespace)
			if err != nil {
				logger.Error(err, "Issuing a sidecar certificate failed", "namespace", secret.Namespace)
				continue
			}
			secret.Data = fresh.Data
			// resourceVersion precondition: one replica renews it.
			_, err = r.opts.Client.CoreV1().Secrets(secret.Namespace).Update(ctx, secret, metav1.UpdateOptions{})
			switch {
			case err == nil:
				logger.Info("Renewed a namespace's sidecar certificate", "secret", klog.KObj(secret), "why", why)
			case !apierrors.IsConflict(err) && !apierrors.IsNotFound(err):
				logger.Error(err, "Renewing a sidecar certificate failed", "secret", klog.KObj(secret))
			}
		}
	}, rotateInterval)
}

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
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
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
		// The namespaces with pool pods are those whose sidecars use a
		// certificate; each Secret is read by its name, never listed.
		pods, err := r.lister.List(labels.Everything())
		if err != nil {
			logger.Error(err, "Listing pool pods failed")
			return
		}
		namespaces := sets.New[string]()
		for _, pod := range pods {
			namespaces.Insert(pod.Namespace)
		}
		for _, namespace := range sets.List(namespaces) {
			r.renewSidecarSecret(ctx, namespace, now)
		}
	}, rotateInterval)
}

// renewSidecarSecret renews a namespace's sidecar TLS Secret when it is due.
func (r *Runtime) renewSidecarSecret(ctx context.Context, namespace string, now time.Time) {
	logger := klog.FromContext(ctx)
	secret, err := r.opts.Client.CoreV1().Secrets(namespace).Get(ctx, TLSSecret, metav1.GetOptions{})
	if err != nil {
		if !apierrors.IsNotFound(err) {
			logger.Error(err, "Reading a sidecar TLS Secret failed", "namespace", namespace)
		}
		return
	}
	why := r.creds.sidecarSecretDue(secret, now)
	if why == "" {
		return
	}
	fresh, err := r.creds.sidecarSecret(namespace)
	if err != nil {
		logger.Error(err, "Issuing a sidecar certificate failed", "namespace", namespace)
		return
	}
	secret.Data = fresh.Data
	// resourceVersion precondition: one replica renews it.
	_, err = r.opts.Client.CoreV1().Secrets(namespace).Update(ctx, secret, metav1.UpdateOptions{})
	switch {
	case err == nil:
		logger.Info("Renewed a namespace's sidecar certificate", "secret", klog.KObj(secret), "why", why)
	case !apierrors.IsConflict(err) && !apierrors.IsNotFound(err):
		logger.Error(err, "Renewing a sidecar certificate failed", "secret", klog.KObj(secret))
	}
}

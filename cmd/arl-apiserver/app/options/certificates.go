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

package options

import (
	"context"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/wait"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/certs"
)

// certificateCheckInterval is how often a replica looks for certificates
// to renew (and for a caBundle someone emptied).
const certificateCheckInterval = time.Minute

// CertificateOptions make arl-apiserver create and rotate the
// installation's certificates (package certs).
type CertificateOptions struct {
	Manage   bool
	Dir      string
	Validity time.Duration
}

// AddFlags adds the certificate flags.
func (o *CertificateOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Manage, "manage-certificates", false,
		"Create and rotate the installation's certificates in Secrets of --namespace: arl-apiserver's serving certificate "+
			"(and the APIService's caBundle), etcd's peer and server certificates and its client certificates. Sets "+
			"--tls-cert-file, --tls-private-key-file, --etcd-certfile, --etcd-keyfile and --etcd-cafile to files in --cert-dir.")
	fs.StringVar(&o.Dir, "cert-dir", "/var/run/arl/certs",
		"With --manage-certificates: where this replica keeps its serving and etcd client certificates.")
	fs.DurationVar(&o.Validity, "certificate-validity", certs.DefaultValidity,
		"With --manage-certificates: how long a leaf certificate is valid; it is renewed past two thirds of that.")
}

func (o *CertificateOptions) complete(ro *genericoptions.RecommendedOptions) {
	if !o.Manage {
		return
	}
	ro.SecureServing.ServerCert.CertKey.CertFile = filepath.Join(o.Dir, certs.FileServingCert)
	ro.SecureServing.ServerCert.CertKey.KeyFile = filepath.Join(o.Dir, certs.FileServingKey)
	t := &ro.Etcd.StorageConfig.Transport
	t.CertFile = filepath.Join(o.Dir, certs.FileEtcdClientCert)
	t.KeyFile = filepath.Join(o.Dir, certs.FileEtcdClientKey)
	t.TrustedCAFile = filepath.Join(o.Dir, certs.FileEtcdCA)
}

// EnsureCertificates makes sure the certificates exist before the server
// is built (it reads this replica's files), and returns what renews them
// until its context ends, for a post-start hook. Without
// --manage-certificates it does nothing and returns nil.
func (o *Options) EnsureCertificates(ctx context.Context) (renew func(context.Context), err error) {
	if !o.Certificates.Manage {
		return nil, nil
	}
	cfg, err := o.kubeRESTConfig()
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	m := certs.New(certs.Options{
		Client: client, Dynamic: dyn, Namespace: o.Pool.Namespace, Dir: o.Certificates.Dir,
		APIService: v1alpha1.SchemeGroupVersion.Version + "." + v1alpha1.SchemeGroupVersion.Group,
		Validity:   o.Certificates.Validity,
	})
	logger := klog.FromContext(ctx).WithName("certificates")
	ctx = klog.NewContext(ctx, logger)
	// kube-apiserver may be restarting: wait for it rather than crash.
	err = wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(ctx context.Context) (bool, error) {
		if err := m.Ensure(ctx); err != nil {
			logger.Error(err, "Ensuring the installation's certificates failed; retrying")
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) {
		m.Run(klog.NewContext(ctx, logger), certificateCheckInterval)
	}, nil
}

// kubeRESTConfig is the client config of kube-apiserver: --kubeconfig,
// else the pod's service account.
func (o *Options) kubeRESTConfig() (*rest.Config, error) {
	if ro := o.RecommendedOptions.CoreAPI; ro != nil && ro.CoreAPIKubeconfigPath != "" {
		return clientcmd.BuildConfigFromFlags("", ro.CoreAPIKubeconfigPath)
	}
	return rest.InClusterConfig()
}

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

// Package options holds arl-apiserver's flags and turns them into a server config.
package options

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/apiserver/pkg/util/compatibility"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"

	"github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/apiserver"
	"github.com/arl-infra/arl/pkg/apiserver/growstack"
	generatedopenapi "github.com/arl-infra/arl/pkg/generated/openapi"
	"github.com/arl-infra/arl/pkg/standalone"
	"github.com/arl-infra/arl/pkg/storeguard"
)

// EtcdPathPrefix is where ARL objects live in etcd.
const EtcdPathPrefix = "/registry/arl.infra.io"

// shutdownWatchGrace bounds how long a stopping server waits for its
// watches to end once it told them to.
const shutdownWatchGrace = 5 * time.Second

// storageVersions are how objects are stored: ARL's as v1alpha1, and the
// core/v1 Events standalone mode serves as v1.
var storageVersions = schema.GroupVersions{v1alpha1.SchemeGroupVersion, corev1.SchemeGroupVersion}

// Options are arl-apiserver's flags.
type Options struct {
	RecommendedOptions *genericoptions.RecommendedOptions
	Standalone         StandaloneOptions
	Pool               PoolOptions
	Certificates       CertificateOptions
	// ShutdownDelay keeps serving, not ready, after SIGTERM, while
	// endpoints and load balancers stop sending requests here.
	ShutdownDelay time.Duration

	// StdOut receives what a person starting the server must read (the
	// standalone KUBECONFIG line); logs go to klog.
	StdOut io.Writer
}

// StandaloneOptions run ARL without a Kubernetes cluster.
type StandaloneOptions struct {
	Enabled bool
	// DataDir holds the embedded etcd's data, the PKI and the kubeconfig.
	DataDir string

	// embeddedEtcdURL is set by Complete when ARL must start its own etcd.
	embeddedEtcdURL string
	pki             *standalone.PKI
}

// NewOptions returns the defaults: an aggregated server on port 8443.
func NewOptions(out io.Writer) *Options {
	setFeatureDefaults()
	o := &Options{
		RecommendedOptions: genericoptions.NewRecommendedOptions(EtcdPathPrefix, apiserver.Codecs.LegacyCodec(storageVersions...)),
		Standalone:         StandaloneOptions{DataDir: ".arl"},
		StdOut:             out,
	}
	o.RecommendedOptions.Etcd.StorageConfig.EncodeVersioner = storageVersions
	o.RecommendedOptions.SecureServing.BindPort = 8443
	return o
}

// Flags returns the flags grouped into sections for --help.
func (o *Options) Flags() cliflag.NamedFlagSets {
	var fss cliflag.NamedFlagSets
	fs := fss.FlagSet("standalone")
	fs.BoolVar(&o.Standalone.Enabled, "standalone", o.Standalone.Enabled,
		"Run without a Kubernetes cluster: embedded etcd (unless --etcd-servers is set), self-signed certificates, "+
			"x509 client-certificate authentication with a generated admin kubeconfig, sandboxes as local processes.")
	fs.StringVar(&o.Standalone.DataDir, "data-dir", o.Standalone.DataDir,
		"Standalone mode: directory for etcd data, certificates, the admin kubeconfig and local sandboxes.")
	o.Pool.AddFlags(fss.FlagSet("pool"))
	o.Certificates.AddFlags(fss.FlagSet("certificates"))
	o.RecommendedOptions.AddFlags(fss.FlagSet("generic"))
	utilfeature.DefaultMutableFeatureGate.AddFlag(fss.FlagSet("generic")) // --feature-gates, as on Kubernetes' servers
	// The generic --cert-dir (where self-signed certificates go) is shadowed
	// by the certificates section's: help shows the one that takes effect.
	_ = fss.FlagSet("generic").MarkHidden("cert-dir")
	fss.FlagSet("generic").DurationVar(&o.ShutdownDelay, "shutdown-delay-duration", o.ShutdownDelay,
		"On SIGTERM, how long to go on serving while /readyz fails, so that kube-apiserver's aggregator (endpoints) "+
			"stops sending requests here before this replica stops listening.")
	return fss
}

// Complete fills in what depends on other flags. In standalone mode it
// replaces delegated authentication and authorization, which need a
// kube-apiserver, with the standalone PKI.
func (o *Options) Complete(bindAddressSet bool) error {
	if !o.Standalone.Enabled {
		o.Certificates.complete(o.RecommendedOptions)
		return nil
	}
	dataDir, err := filepath.Abs(o.Standalone.DataDir)
	if err != nil {
		return err
	}
	o.Standalone.DataDir = dataDir
	ro := o.RecommendedOptions
	if !bindAddressSet {
		ro.SecureServing.BindAddress = netutils.ParseIPSloppy("127.0.0.1")
	}
	o.Standalone.pki = standalone.NewPKI(filepath.Join(dataDir, "pki"))
	if ro.SecureServing.ServerCert.CertKey.CertFile == "" {
		ro.SecureServing.ServerCert.CertKey.CertFile = o.Standalone.pki.ServingCertFile
		ro.SecureServing.ServerCert.CertKey.KeyFile = o.Standalone.pki.ServingKeyFile
	}
	ro.Authentication = nil
	ro.Authorization = nil
	ro.CoreAPI = nil
	ro.Admission = nil
	ro.Features.EnablePriorityAndFairness = false
	if len(ro.Etcd.StorageConfig.Transport.ServerList) == 0 {
		u, err := standalone.FreeLocalURL()
		if err != nil {
			return err
		}
		o.Standalone.embeddedEtcdURL = u.String()
		ro.Etcd.StorageConfig.Transport.ServerList = []string{u.String()}
	}
	return nil
}

// Validate checks the flags.
func (o *Options) Validate() error {
	errs := append(o.RecommendedOptions.Validate(), o.Pool.Validate()...)
	if o.Certificates.Manage && o.Standalone.Enabled {
		errs = append(errs, fmt.Errorf("--manage-certificates is for a cluster; --standalone makes its own"))
	}
	if o.ShutdownDelay < 0 {
		errs = append(errs, fmt.Errorf("--shutdown-delay-duration must not be negative"))
	}
	return utilerrors.NewAggregate(errs)
}

// EmbeddedEtcdURL is where Run must start etcd, or "" when etcd is external.
func (o *Options) EmbeddedEtcdURL() string { return o.Standalone.embeddedEtcdURL }

// MoveEmbeddedEtcd serves the embedded etcd, and points the storage, at u
// instead: the port Complete found free was taken before etcd listened.
func (o *Options) MoveEmbeddedEtcd(u *url.URL) {
	o.Standalone.embeddedEtcdURL = u.String()
	o.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList = []string{u.String()}
}

// ListenSecurePort opens the secure port now rather than in Config: a
// standalone server listens before its embedded etcd picks free ports,
// which could otherwise pick the secure port and fail the server's own
// listen with "address already in use".
func (o *Options) ListenSecurePort() error {
	s := o.RecommendedOptions.SecureServing
	if s.Listener != nil {
		return nil
	}
	addr := net.JoinHostPort(s.BindAddress.String(), strconv.Itoa(s.BindPort))
	listener, port, err := genericoptions.CreateListener(s.BindNetwork, addr, net.ListenConfig{})
	if err != nil {
		return fmt.Errorf("failed to create listener: %w", err)
	}
	s.Listener, s.BindPort = listener, port
	return nil
}

// EtcdDataDir is the embedded etcd's data directory.
func (o *Options) EtcdDataDir() string { return filepath.Join(o.Standalone.DataDir, "etcd") }

// KubeconfigPath is where standalone mode writes the admin kubeconfig.
func (o *Options) KubeconfigPath() string { return filepath.Join(o.Standalone.DataDir, "kubeconfig") }

// PKI is the standalone certificate material, nil outside standalone mode.
func (o *Options) PKI() *standalone.PKI { return o.Standalone.pki }

// Config turns the flags into a server config. It calls no API and starts
// nothing: what runs with the server starts in its post-start hooks.
func (o *Options) Config() (*apiserver.Config, error) {
	ro := o.RecommendedOptions
	if o.Standalone.Enabled {
		if err := o.Standalone.pki.Ensure([]string{"localhost", "127.0.0.1", ro.SecureServing.BindAddress.String()}); err != nil {
			return nil, fmt.Errorf("creating standalone certificates in %s: %w", o.Standalone.pki.Dir, err)
		}
	} else if err := ro.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("creating self-signed certificates: %w", err)
	}

	serverConfig := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	namer := openapi.NewDefinitionNamer(apiserver.Scheme)
	serverConfig.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(generatedopenapi.GetOpenAPIDefinitions, namer)
	serverConfig.OpenAPIConfig.Info.Title = "ARL"
	serverConfig.OpenAPIConfig.Info.Version = v1alpha1.SchemeGroupVersion.Version
	serverConfig.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(generatedopenapi.GetOpenAPIDefinitions, namer)
	serverConfig.OpenAPIV3Config.Info.Title = "ARL"
	serverConfig.OpenAPIV3Config.Info.Version = v1alpha1.SchemeGroupVersion.Version
	serverConfig.EffectiveVersion = compatibility.DefaultBuildEffectiveVersion()
	serverConfig.FeatureGate = utilfeature.DefaultFeatureGate
	// tasks/exec blocks until the Task finishes and tasks/log follows its
	// output: neither may be cut by the server's request timeout
	// (kube-apiserver's aggregator treats both names as long-running too).
	serverConfig.LongRunningFunc = genericfilters.BasicLongRunningRequestCheck(sets.NewString("watch"), sets.NewString("exec", "log", "files", "archive"))
	// On SIGTERM, end the watches in flight (kubectl get -w, controllers'
	// informers, through the aggregator) so their connections close: with
	// the default (0) they stay open, the HTTP server's shutdown waits its
	// full timeout, past the pod's grace period, and every rollout of
	// arl-apiserver ended in a SIGKILL.
	serverConfig.ShutdownWatchTerminationGracePeriod = shutdownWatchGrace
	serverConfig.ShutdownDelayDuration = o.ShutdownDelay

	if err := ro.ApplyTo(serverConfig); err != nil {
		return nil, err
	}
	config := &apiserver.Config{GenericConfig: serverConfig}
	var anchor storeguard.Anchor
	if o.Standalone.Enabled {
		if err := o.Standalone.pki.ApplyAuth(&serverConfig.Config); err != nil {
			return nil, err
		}
		if err := o.Pool.applyLocal(&config.ExtraConfig, o.Standalone.DataDir); err != nil {
			return nil, err
		}
		anchor = storeguard.FileAnchor{Path: filepath.Join(o.Standalone.DataDir, StoreRecordFile)}
	} else {
		kubeClient, err := o.Pool.applyKube(&config.ExtraConfig, serverConfig.ClientConfig, ro.SecureServing.BindPort, ro.Etcd.StorageConfig)
		if err != nil {
			return nil, err
		}
		anchor = storeguard.ConfigMapAnchor{Client: kubeClient, Namespace: o.Pool.Namespace, Name: StoreRecordConfigMap}
	}
	guard, err := newStoreGuard(ro.Etcd.StorageConfig.Transport, ro.Etcd.StorageConfig.Prefix, anchor)
	if err != nil {
		return nil, err
	}
	config.ExtraConfig.StoreGuard = guard
	serverConfig.BuildHandlerChainFunc = func(apiHandler http.Handler, c *genericapiserver.Config) http.Handler {
		return growstack.WithGrownStack(genericapiserver.DefaultBuildHandlerChain(guard.WithGuard(apiHandler, c.Serializer), c))
	}
	return config, nil
}

// Where the installation records the store it serves (package storeguard).
const (
	// StoreRecordConfigMap, in the server's namespace, in a cluster.
	StoreRecordConfigMap = "arl-store-identity"
	// StoreRecordFile, in the data directory, standalone.
	StoreRecordFile = "store-identity.json"
)

// newStoreGuard checks ARL's etcd with the storage's own connection settings.
func newStoreGuard(transport storagebackend.TransportConfig, prefix string, anchor storeguard.Anchor) (*storeguard.Guard, error) {
	probe, closeProbe, err := storeguard.NewEtcdProbe(transport, prefix)
	if err != nil {
		return nil, err
	}
	return storeguard.New(storeguard.Options{Probe: probe, CloseProbe: closeProbe, Anchor: anchor}), nil
}

// WaitForEtcd waits until etcd answers a read (or timeout passes: the
// storage then reports what is wrong).
func (o *Options) WaitForEtcd(ctx context.Context, timeout time.Duration) error {
	storage := o.RecommendedOptions.Etcd.StorageConfig
	probe, closeProbe, err := storeguard.NewEtcdProbe(storage.Transport, storage.Prefix)
	if err != nil {
		return err
	}
	defer func() { _ = closeProbe() }()
	logger := klog.FromContext(ctx)
	start := time.Now()
	err = wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := probe.Observe(rctx); err != nil {
			logger.Info("Waiting for ARL's etcd", "etcd", probe.String(), "waited", time.Since(start).Round(time.Second), "err", err.Error())
			return false, nil
		}
		return true, nil
	})
	if err != nil && ctx.Err() == nil {
		logger.Info("ARL's etcd did not answer; starting anyway", "etcd", probe.String(), "waited", timeout)
		return nil
	}
	return err
}

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

// Package app is arl-apiserver's command: flags, then a running server.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	genericapiserver "k8s.io/apiserver/pkg/server"
	cliflag "k8s.io/component-base/cli/flag"
	"k8s.io/component-base/term"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/cmd/arl-apiserver/app/etcdcmd"
	"github.com/arl-infra/arl/cmd/arl-apiserver/app/options"
	"github.com/arl-infra/arl/pkg/standalone"
)

// NewCommand returns the arl-apiserver command.
func NewCommand(ctx context.Context, out io.Writer) *cobra.Command {
	o := options.NewOptions(out)
	cmd := &cobra.Command{
		Use:   "arl-apiserver",
		Short: "Serve the arl.infra.io API (WarmPools, Sandboxes, Tasks)",
		Long: "arl-apiserver serves the arl.infra.io API behind kube-apiserver's aggregation layer, " +
			"or on its own with --standalone (embedded etcd, generated admin kubeconfig).",
		SilenceUsage: true,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 0 {
				return fmt.Errorf("unexpected arguments: %q", args)
			}
			if err := o.Complete(c.Flags().Changed("bind-address")); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return Run(c.Context(), o)
		},
	}
	cmd.SetContext(ctx)
	cmd.AddCommand(etcdcmd.NewCommand())
	fss := o.Flags()
	// In order: a name two sections define (--cert-dir) goes to the first,
	// not to whichever a map's iteration gives on this start.
	for _, name := range fss.Order {
		cmd.Flags().AddFlagSet(fss.FlagSets[name])
	}
	cols, _, _ := term.TerminalSize(cmd.OutOrStdout())
	cliflag.SetUsageAndHelpFunc(cmd, fss, cols)
	return cmd
}

// etcdStartWait bounds how long a starting server waits for its etcd.
const etcdStartWait = 3 * time.Minute

// etcdPortAttempts bounds the loopback ports the embedded etcd tries.
const etcdPortAttempts = 5

// startEmbeddedEtcd starts the standalone server's etcd on the port
// Complete chose, or on another when a process took that one between the
// check and etcd's listen (servers starting side by side, as the
// integration suites do).
func startEmbeddedEtcd(ctx context.Context, o *options.Options) (*standalone.Etcd, error) {
	for attempt := 1; ; attempt++ {
		u, err := url.Parse(o.EmbeddedEtcdURL())
		if err != nil {
			return nil, err
		}
		etcd, err := standalone.StartEtcd(ctx, o.EtcdDataDir(), u)
		if err == nil || !errors.Is(err, syscall.EADDRINUSE) || attempt == etcdPortAttempts {
			return etcd, err
		}
		klog.InfoS("The embedded etcd's port was taken; trying another", "err", err)
		if u, err = standalone.FreeLocalURL(); err != nil {
			return nil, err
		}
		o.MoveEmbeddedEtcd(u)
	}
}

// Run starts the server (and, in standalone mode, its etcd) and serves
// until ctx ends.
func Run(ctx context.Context, o *options.Options) error {
	if o.EmbeddedEtcdURL() != "" {
		if err := o.ListenSecurePort(); err != nil {
			return err
		}
		etcd, err := startEmbeddedEtcd(ctx, o)
		if err != nil {
			return err
		}
		defer etcd.Close()
	}
	renewCertificates, err := o.EnsureCertificates(ctx)
	if err != nil {
		return err
	}
	if o.EmbeddedEtcdURL() == "" {
		// A fresh install starts etcd and arl-apiserver together, and etcd
		// waits for the certificates made just above: wait for it here
		// rather than fail the storage's 20 s dial and restart.
		if err := o.WaitForEtcd(ctx, etcdStartWait); err != nil {
			return err
		}
	}
	config, err := o.Config()
	if err != nil {
		return err
	}
	server, err := config.Complete().New()
	if err != nil {
		return err
	}
	if renewCertificates != nil {
		server.GenericAPIServer.AddPostStartHookOrDie("arl-certificates", func(hook genericapiserver.PostStartHookContext) error {
			go renewCertificates(hook)
			return nil
		})
	}
	if pki := o.PKI(); pki != nil {
		serverURL := "https://" + net.JoinHostPort(loopbackHost(o), strconv.Itoa(config.GenericConfig.SecureServing.Listener.Addr().(*net.TCPAddr).Port))
		guard := config.ExtraConfig.StoreGuard
		server.GenericAPIServer.AddPostStartHookOrDie("arl-standalone-kubeconfig", func(hook genericapiserver.PostStartHookContext) error {
			if err := pki.WriteKubeconfig(o.KubeconfigPath(), serverURL); err != nil {
				return err
			}
			// Announced once the store is verified (or refused, which the
			// log and /readyz say): a user or script that runs kubectl at
			// the announcement must not get "verifying its store" back.
			if guard != nil {
				select {
				case <-guard.Verified():
				case <-guard.Refused():
				case <-hook.Done():
					return nil
				}
			}
			klog.InfoS("Standalone ARL is serving", "server", serverURL, "kubeconfig", o.KubeconfigPath())
			_, err := fmt.Fprintf(o.StdOut, "ARL is serving at %s\nexport KUBECONFIG=%s\n", serverURL, o.KubeconfigPath())
			return err
		})
	}
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// loopbackHost is the address the admin kubeconfig points at.
func loopbackHost(o *options.Options) string {
	if ip := o.RecommendedOptions.SecureServing.BindAddress; ip != nil && !ip.IsUnspecified() {
		return ip.String()
	}
	return "127.0.0.1"
}

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

package main

import (
	"net"
	"os"
	"os/signal"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/sidecar/serve"
)

func runServe(args []string) int {
	fs := newFlagSet("serve")
	listen := fs.String("listen", ":50051", "address of the mTLS AgentService")
	agentSocket := fs.String("agent-socket", "/.arl/run/agent.sock", "the agent's unix socket")
	certFile := fs.String("tls-cert-file", "", "serving certificate (PEM); re-read when it changes")
	keyFile := fs.String("tls-key-file", "", "serving key (PEM)")
	caFile := fs.String("client-ca-file", "", "CA bundle (PEM) that signs the certificates of allowed callers")
	healthListen := fs.String("health-listen", ":50052", "plaintext address of the health service alone (kubelet gRPC probes); empty: none")
	healthInterval := fs.Duration("health-interval", time.Second, "how often the agent's health is checked")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *certFile == "" || *keyFile == "" || *caFile == "" {
		klog.ErrorS(nil, "--tls-cert-file, --tls-key-file and --client-ca-file are required: serve never runs without mTLS")
		return exitBadUsage
	}
	creds, err := serve.LoadCredentials(*certFile, *keyFile, *caFile)
	if err != nil {
		klog.ErrorS(err, "Loading the TLS credentials failed")
		return exitFailure
	}
	s, err := serve.New(serve.Config{AgentSocket: *agentSocket, Credentials: creds, HealthInterval: *healthInterval})
	if err != nil {
		klog.ErrorS(err, "Starting failed")
		return exitFailure
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		klog.ErrorS(err, "Listening failed", "address", *listen)
		return exitFailure
	}
	var hlis net.Listener
	if *healthListen != "" {
		if hlis, err = net.Listen("tcp", *healthListen); err != nil {
			klog.ErrorS(err, "Listening failed", "address", *healthListen)
			return exitFailure
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, unix.SIGTERM, unix.SIGINT)
	served := make(chan error, 1)
	go func() { served <- s.Serve(lis, hlis) }()
	klog.InfoS("Serving the AgentService", "listen", lis.Addr().String(), "healthListen", *healthListen, "agentSocket", *agentSocket)
	select {
	case sig := <-sigs:
		klog.InfoS("Stopping", "signal", sig)
		s.Stop()
		return 0
	case err := <-served:
		klog.ErrorS(err, "Serving failed")
		return exitFailure
	}
}

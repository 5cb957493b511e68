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

package serve

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"k8s.io/klog/v2"
)

// clientCertCreds is TLS that asks for a client certificate but verifies it
// after the handshake, once per connection, instead of failing the
// handshake: a caller without a valid certificate then gets a clear
// Unauthenticated status rather than an opaque connection error. The TLS
// handshake itself proves the caller holds the certificate's key.
type clientCertCreds struct {
	credentials.TransportCredentials
	verify func([]*x509.Certificate) error
}

// authInfo is a connection's TLS state and the verdict on its certificate.
type authInfo struct {
	credentials.TLSInfo
	err error
}

func (c *clientCertCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		return nil, nil, err
	}
	tlsInfo, ok := info.(credentials.TLSInfo)
	if !ok {
		conn.Close()
		return nil, nil, fmt.Errorf("unexpected auth info %T", info)
	}
	verdict := c.verify(tlsInfo.State.PeerCertificates)
	if verdict != nil {
		klog.V(2).InfoS("Refusing a client", "remote", raw.RemoteAddr(), "err", verdict)
	}
	return conn, authInfo{TLSInfo: tlsInfo, err: verdict}, nil
}

func (c *clientCertCreds) Clone() credentials.TransportCredentials {
	return &clientCertCreds{TransportCredentials: c.TransportCredentials.Clone(), verify: c.verify}
}

var errNoCertificate = errors.New("a client certificate is required")

// verifyClientCert accepts a chain that leads to one of roots() and is valid
// for client authentication.
func verifyClientCert(roots func() *x509.CertPool) func([]*x509.Certificate) error {
	return func(certs []*x509.Certificate) error {
		if len(certs) == 0 {
			return errNoCertificate
		}
		opts := x509.VerifyOptions{
			Roots:         roots(),
			Intermediates: x509.NewCertPool(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		for _, c := range certs[1:] {
			opts.Intermediates.AddCert(c)
		}
		if _, err := certs[0].Verify(opts); err != nil {
			return fmt.Errorf("the client certificate %q is not trusted: %w", certs[0].Subject.CommonName, err)
		}
		return nil
	}
}

func authorize(ctx context.Context) error {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return status.Error(codes.Unauthenticated, "no peer information")
	}
	info, ok := p.AuthInfo.(authInfo)
	if !ok {
		return status.Error(codes.Unauthenticated, "a TLS connection with a client certificate is required")
	}
	if info.err != nil {
		return status.Errorf(codes.Unauthenticated, "%v: present a certificate signed by the sidecar's client CA", info.err)
	}
	return nil
}

// authorizeStream refuses a stream of a caller without a valid client
// certificate as soon as its headers arrive (grpc.InTapHandle), before
// any of its messages is read: gRPC reads and decodes a unary request
// before interceptors run, which would let a stranger make serve buffer and
// parse up to MaxMessageBytes per call.
func authorizeStream(ctx context.Context, _ *tap.Info) (context.Context, error) {
	return ctx, authorize(ctx)
}

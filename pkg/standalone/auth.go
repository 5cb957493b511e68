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

package standalone

import (
	"k8s.io/apiserver/pkg/authentication/request/anonymous"
	authenticatorunion "k8s.io/apiserver/pkg/authentication/request/union"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	"k8s.io/apiserver/pkg/authorization/path"
	authorizerunion "k8s.io/apiserver/pkg/authorization/union"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	"k8s.io/utils/clock"
)

// healthPaths are open to anyone, so probes and `curl -k` need no cert.
var healthPaths = []string{"/healthz", "/healthz/*", "/livez", "/livez/*", "/readyz", "/readyz/*"}

// ApplyAuth makes config authenticate x509 client certificates signed by
// the PKI's CA and admit the admin group, instead of delegating both to a
// kube-apiserver there is none of.
func (p *PKI) ApplyAuth(config *genericapiserver.Config) error {
	clientCA, err := dynamiccertificates.NewDynamicCAContentFromFile("standalone-client-ca", p.CACertFile)
	if err != nil {
		return err
	}
	if err := config.Authentication.ApplyClientCert(clientCA, config.SecureServing); err != nil {
		return err
	}
	certs := x509request.NewDynamic(clientCA.VerifyOptions, x509request.CommonNameUserConversion)
	config.Authentication.Authenticator = authenticatorunion.NewFailOnError(
		newCachedCertAuthenticator(clientCA.VerifyOptions, certs, clock.RealClock{}),
		anonymous.NewAuthenticator(nil),
	)
	healthAuthorizer, err := path.NewAuthorizer(healthPaths)
	if err != nil {
		return err
	}
	config.Authorization.Authorizer, err = authorizerunion.New(
		authorizerunion.NamedAuthorizer{AuthorizerName: "admin-group", Authorizer: authorizerfactory.NewPrivilegedGroups(AdminGroup)},
		authorizerunion.NamedAuthorizer{AuthorizerName: "health-paths", Authorizer: healthAuthorizer},
	)
	return err
}

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
	"errors"
	"net/http"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/responsewriters"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/server/healthz"
)

// WithGuard answers every resource request 503 while the store is not
// verified or was refused, instead of serving the watch cache; discovery,
// health and metrics pass. It goes inside the handler chain (after
// authentication: strangers learn nothing).
func (g *Guard) WithGuard(handler http.Handler, s runtime.NegotiatedSerializer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		info, ok := request.RequestInfoFrom(req.Context())
		if !ok || !info.IsResourceRequest {
			handler.ServeHTTP(w, req)
			return
		}
		if err := g.APIError(); err != nil {
			if errors.Is(g.Err(), ErrUnverified) {
				w.Header().Set("Retry-After", "1")
			}
			responsewriters.ErrorNegotiated(err, s, schema.GroupVersion{Group: info.APIGroup, Version: info.APIVersion}, w, req)
			return
		}
		handler.ServeHTTP(w, req)
	})
}

// ReadyzCheck fails while the store is not verified or was refused.
func (g *Guard) ReadyzCheck() healthz.HealthChecker {
	return healthz.NamedCheck("arl-store-identity", func(*http.Request) error { return g.Err() })
}

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

package peers

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/client-go/rest"
)

// apiService is the part of an apiregistration.k8s.io/v1 APIService that
// says how kube-apiserver trusts the replicas.
type apiService struct {
	Spec struct {
		Service *struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"service"`
		CABundle              []byte `json:"caBundle"`
		InsecureSkipTLSVerify bool   `json:"insecureSkipTLSVerify"`
	} `json:"spec"`
}

// APIServiceTrust trusts the replicas as kube-apiserver does: the named
// APIService's caBundle, for its service's DNS name.
func APIServiceTrust(client rest.Interface, name string) TrustSource {
	return func(ctx context.Context) (Trust, error) {
		raw, err := client.Get().AbsPath("/apis/apiregistration.k8s.io/v1/apiservices", name).DoRaw(ctx)
		if err != nil {
			return Trust{}, fmt.Errorf("reading APIService %s: %w", name, err)
		}
		var svc apiService
		if err := json.Unmarshal(raw, &svc); err != nil {
			return Trust{}, fmt.Errorf("decoding APIService %s: %w", name, err)
		}
		if svc.Spec.Service == nil {
			return Trust{}, fmt.Errorf("APIService %s names no service", name)
		}
		return Trust{
			CAData:     svc.Spec.CABundle,
			ServerName: svc.Spec.Service.Name + "." + svc.Spec.Service.Namespace + ".svc",
			Insecure:   svc.Spec.InsecureSkipTLSVerify,
		}, nil
	}
}

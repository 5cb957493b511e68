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
	"fmt"
	"net"
	"os"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apiserver/pkg/storage/storagebackend"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/apiserver"
	"github.com/arl-infra/arl/pkg/etcdclient"
	"github.com/arl-infra/arl/pkg/peers"
	"github.com/arl-infra/arl/pkg/pool/claims"
	"github.com/arl-infra/arl/pkg/pool/kube"
	"github.com/arl-infra/arl/pkg/replicas"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// applyKube configures the Kubernetes runtime: pool pods are real pods,
// Events go to kube-apiserver and one replica (a Lease) manages pools.
// port is the secure port: with POD_IP, where the other replicas reach this one.
// storage is ARL's etcd, where binds claim pods (--pod-claims=etcd).
// It calls no API and starts nothing: the server's post-start hooks do.
func (o *PoolOptions) applyKube(extra *apiserver.ExtraConfig, kubeConfig *rest.Config, port int, storage storagebackend.Config) (kubernetes.Interface, error) {
	if kubeConfig == nil {
		return nil, fmt.Errorf("pools need a Kubernetes client: run in a cluster, or pass --kubeconfig")
	}
	cfg := rest.CopyConfig(kubeConfig)
	cfg.QPS, cfg.Burst = 200, 400
	kubeClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	instance := os.Getenv("POD_NAME")
	if instance == "" {
		instance, _ = os.Hostname()
	}
	identity := instance + "_" + string(uuid.NewUUID())

	denied, err := o.egressDenied()
	if err != nil {
		return nil, err
	}
	runtime, err := kube.New(kube.Options{
		Client:               kubeClient,
		SidecarImage:         o.SidecarImage,
		Namespace:            o.Namespace,
		Identity:             identity,
		PrivilegedNamespaces: sets.New(o.PrivilegedNamespaces...),
		NetworkPolicies:      o.NetworkPolicies,
		ServerLabels:         o.ServerPodLabels,
		EgressDenied:         denied,
	})
	if err != nil {
		return nil, err
	}
	extra.PoolRuntime = runtime
	if o.PodClaims == PodClaimsEtcd {
		etcd, err := etcdclient.New(storage.Transport)
		if err != nil {
			return nil, fmt.Errorf("pod claims: %w", err)
		}
		extra.PoolRuntime = claims.Wrap(runtime, claims.NewLedger(etcd, storage.Prefix))
	}
	extra.Agents = client.NewPool()
	o.applyTasks(extra)
	extra.Identity = identity

	broadcaster := record.NewBroadcaster()
	extra.EventBroadcaster = broadcaster
	extra.EventSink = &typedcorev1.EventSinkImpl{Interface: kubeClient.CoreV1().Events("")}
	// Host names the replica (the Event's reportingInstance): with several
	// replicas, `kubectl describe` tells which one bound a Sandbox.
	extra.Recorder = broadcaster.NewRecorder(apiserver.EventScheme(), corev1.EventSource{Component: "arl-apiserver", Host: instance})

	address := ""
	if ip := os.Getenv("POD_IP"); ip != "" {
		address = net.JoinHostPort(ip, strconv.Itoa(port))
	}
	leases := replicas.NewRunnerLeases(kubeClient, o.Namespace, identity, address)
	// A replica asked for the log of a Task another one runs asks that one.
	extra.Peers = peers.New(peers.Config{
		Credentials: kubeConfig,
		Self:        address,
		Resolve:     leases.AddressOf,
		Trust:       peers.APIServiceTrust(kubeClient.Discovery().RESTClient(), arlv1alpha1.SchemeGroupVersion.Version+"."+arlv1alpha1.SchemeGroupVersion.Group),
	})
	// Kept until the replica has finished its Tasks (after a SIGTERM too):
	// the others fail the Running Tasks of a runner whose Lease is gone.
	extra.KeepRunnerLease = leases.Keep
	extra.RunnerAlive = leases.Alive

	if o.LeaderElect {
		extra.RunLeaderElected = func(ctx context.Context, lead func(context.Context)) {
			replicas.RunLeaderElected(ctx, kubeClient, o.Namespace, identity, lead)
		}
	}
	return kubeClient, nil
}

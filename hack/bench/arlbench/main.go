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

// Command arlbench measures ARL's hot paths end to end, as a client sees
// them, against floors measured in the same run: Sandbox bind latency
// (steady and burst), Task round trip through tasks/exec, per-step
// overhead and Task throughput, next to a fork/exec of `true` and a raw
// sidecar Execute of `true`. It prints p50/p99 tables (docs/performance.md).
//
// Without --kubeconfig it starts a standalone arl-apiserver from bin/.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
)

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "server to measure (default: start a standalone arl-apiserver from bin/)")
	flag.StringVar(&o.namespace, "namespace", "arl-bench", "namespace of the benchmark's objects (created if missing when possible)")
	flag.StringVar(&o.image, "image", "python:3.9-slim", "image of the benchmark pool")
	flag.IntVar(&o.poolReplicas, "pool-replicas", 20, "idle pods the bind pool keeps")
	flag.IntVar(&o.binds, "binds", 200, "binds at a steady rate")
	flag.Float64Var(&o.rate, "rate", 10, "steady bind rate, per second")
	flag.IntVar(&o.burst, "burst", 100, "binds created at once")
	flag.IntVar(&o.tasks, "tasks", 300, "sequential Task round trips")
	flag.IntVar(&o.lifecycles, "lifecycles", 40, "Sandboxes bound and deleted one after another, at --rate: the writes one short-lived sandbox costs")
	flag.IntVar(&o.lifecycleTasks, "lifecycle-tasks", 1, "Tasks `true` each lifecycle runs (0: the sandbox's own writes alone)")
	flag.StringVar(&o.reusePolicy, "reuse-policy", "Delete", "the bench pool's reusePolicy (Delete or Reset)")
	flag.StringVar(&o.concurrency, "concurrency", "1,16,64", "Task throughput at these numbers of concurrent clients")
	flag.IntVar(&o.execSandboxes, "exec-sandboxes", 4, "sandboxes the exec calls/s rows also spread their callers over (1: one sandbox only)")
	flag.DurationVar(&o.throughputFor, "throughput-duration", 10*time.Second, "how long each throughput run lasts")
	flag.StringVar(&o.label, "label", "", "what the server is, for the report (e.g. standalone, aggregated)")
	flag.StringVar(&o.apiserverBin, "apiserver-binary", "bin/arl-apiserver", "the arl-apiserver to start when --kubeconfig is not given")
	flag.StringVar(&o.arlServer, "arl-server", "", "send ARL's requests to this URL (arl-apiserver's Service) with the kubeconfig's credentials, not through kube-apiserver")
	flag.StringVar(&o.arlCA, "arl-ca-file", "", "CA of --arl-server's serving certificate (the APIService's caBundle)")
	flag.StringVar(&o.arlServerName, "arl-server-name", "arl-apiserver.arl-system.svc", "name --arl-server's certificate is checked against")
	flag.Parse()

	ctx := context.Background()
	if o.kubeconfig == "" {
		server, err := startStandalone(ctx, o.apiserverBin)
		if err != nil {
			klog.Fatal(err)
		}
		defer server.stop()
		o.kubeconfig = server.kubeconfig
		if o.label == "" {
			o.label = "standalone (direct to arl-apiserver)"
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		klog.Fatal(err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	b, err := newBench(cfg, o)
	if err != nil {
		klog.Fatal(err)
	}
	fmt.Printf("# arlbench %s, %s, load average %s\n\n", o.label, time.Now().UTC().Format(time.RFC3339), loadAverage())
	if err := b.run(ctx); err != nil {
		klog.Fatal(err)
	}
}

type options struct {
	kubeconfig, namespace, image, concurrency, label, apiserverBin, reusePolicy string
	// arlServer, arlCA and arlServerName send ARL's requests straight to
	// arl-apiserver (its Service) instead of through the kubeconfig's server.
	arlServer, arlCA, arlServerName               string
	poolReplicas, binds, burst, tasks, lifecycles int
	execSandboxes, lifecycleTasks                 int
	rate                                          float64
	throughputFor                                 time.Duration
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

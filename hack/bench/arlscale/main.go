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

// Command arlscale measures ARL at fleet scale (issue 15, `make
// test-scale`): on the test cluster with kwok's simulated nodes
// (hack/scale.sh), it fills a warm pool of 10,000 pods, binds bursts of
// Sandboxes through kube-apiserver's aggregation layer, binds steadily at
// the highest rate the control plane sustains, checks that no pod is ever
// bound twice with several arl-apiserver replicas binding at once, and
// weighs arl-apiserver's memory with 10,000 Sandboxes and 100,000 finished
// Tasks, then binds while the Tasks' TTL deletes them. Every phase reports
// the CPU seconds each component spent on it (read from /proc: the
// cluster's processes run on this machine). It prints Markdown tables for
// docs/performance.md.
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

type options struct {
	kubeconfig, namespace, bursts  string
	pods, nodes, sandboxes, tasks  int
	concurrency, taskConcurrency   int
	steadyFor, taskTTL, cleanupFor time.Duration
	cleanupRate                    float64
}

func main() {
	var o options
	flag.StringVar(&o.kubeconfig, "kubeconfig", "", "the test cluster's admin kubeconfig")
	flag.StringVar(&o.namespace, "namespace", "arl-scale", "namespace of the suite's objects (created)")
	flag.IntVar(&o.nodes, "nodes", 20, "kwok nodes to simulate")
	flag.IntVar(&o.pods, "pods", 10000, "idle pods the warm pool keeps")
	flag.StringVar(&o.bursts, "bursts", "300,1000", "sizes of the bind bursts, each created at once")
	flag.DurationVar(&o.steadyFor, "steady-for", time.Minute, "how long the closed-loop steady binds run")
	flag.IntVar(&o.concurrency, "concurrency", 16, "clients binding back to back in the steady phase and up to --sandboxes")
	flag.IntVar(&o.sandboxes, "sandboxes", 10000, "Sandboxes to hold before memory is weighed")
	flag.IntVar(&o.tasks, "tasks", 100000, "finished Tasks to hold before memory is weighed (0: skip the Task phases)")
	flag.IntVar(&o.taskConcurrency, "task-concurrency", 32, "clients creating Tasks")
	flag.DurationVar(&o.taskTTL, "task-ttl", 15*time.Minute, "the Tasks' ttlSecondsAfterFinished: longer than creating them all takes (binds before the cleanup fill the rest, up to --cleanup-for)")
	flag.DurationVar(&o.cleanupFor, "cleanup-for", 10*time.Minute, "how long binds run during the TTL cleanup at most (the rest of the Tasks go with the namespace; "+
		"the replicas delete at --task-ttl-deletes-per-second each, so 100,000 Tasks take about an hour)")
	flag.Float64Var(&o.cleanupRate, "cleanup-bind-rate", 5, "binds per second, before and during the Tasks' TTL cleanup")
	flag.Parse()
	if o.kubeconfig == "" {
		klog.Fatal("--kubeconfig is required: arlscale measures a cluster with kwok nodes (hack/scale.sh)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		klog.Fatal(err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	s, err := newSuite(cfg, o)
	if err != nil {
		klog.Fatal(err)
	}
	fmt.Printf("# arlscale, %s, %d kwok nodes, load average %s\n\n", time.Now().UTC().Format(time.RFC3339), o.nodes, loadAverage())
	if err := s.run(context.Background()); err != nil {
		klog.Fatal(err)
	}
}

func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}

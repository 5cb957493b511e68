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
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/arl-infra/arl/hack/bench/benchstats"
	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
)

// checkBinds fails the run if two Ready Sandboxes hold one pod, and times
// how long after the binds the pods' labels name their Sandboxes (with
// --pod-claims=etcd the claim is in ARL's etcd and labels follow).
func (s *suite) checkBinds(ctx context.Context) error {
	start := time.Now()
	holder := map[string]string{} // pod → the Sandbox holding it
	err := s.eachSandbox(ctx, func(sb *arlv1alpha1.Sandbox) error {
		if sb.Status.Phase != arlv1alpha1.SandboxReady {
			return nil
		}
		if other, ok := holder[sb.Status.PodName]; ok {
			return fmt.Errorf("double bind: pod %s is held by Sandboxes %s and %s", sb.Status.PodName, other, sb.Name)
		}
		holder[sb.Status.PodName] = sb.Name
		return nil
	})
	if err != nil {
		return err
	}
	last := ""
	err = poll(ctx, 2*time.Minute, "bound pods' labels", func() (bool, error) {
		labelled := map[string]string{}
		opts := metav1.ListOptions{LabelSelector: arl.LabelSandbox, Limit: 5000}
		for {
			pods, err := s.kube.CoreV1().Pods(s.o.namespace).List(ctx, opts)
			if err != nil {
				return false, err
			}
			for i := range pods.Items {
				labelled[pods.Items[i].Name] = pods.Items[i].Labels[arl.LabelSandbox]
			}
			if opts.Continue = pods.Continue; opts.Continue == "" {
				break
			}
		}
		var wrong []string
		for pod, sb := range holder {
			if labelled[pod] != sb {
				wrong = append(wrong, pod)
			}
		}
		last = fmt.Sprintf("%d of %d bound pods not labelled yet (e.g. %s)", len(wrong), len(holder), strings.Join(wrong[:min(len(wrong), 3)], ", "))
		return len(wrong) == 0, nil
	})
	if err != nil {
		// Labels are what kubectl shows, not what binds: report, go on.
		fmt.Printf("| └ no pod bound twice; labels **not converged** | %d | | | %.1f s | | %s: %s | |\n", len(holder), time.Since(start).Seconds(), err, last)
		return nil
	}
	fmt.Printf("| └ no pod bound twice; labels | %d | | | %.1f s | | every bound pod labelled with its Sandbox this long after the last bind answered | |\n",
		len(holder), time.Since(start).Seconds())
	return nil
}

// eachSandbox calls fn for every Sandbox of the suite, a page at a time.
func (s *suite) eachSandbox(ctx context.Context, fn func(*arlv1alpha1.Sandbox) error) error {
	opts := metav1.ListOptions{Limit: 5000}
	for {
		list, err := s.arl.Sandboxes(s.o.namespace).List(ctx, opts)
		if err != nil {
			return err
		}
		for i := range list.Items {
			if err := fn(&list.Items[i]); err != nil {
				return err
			}
		}
		if opts.Continue = list.Continue; opts.Continue == "" {
			return nil
		}
	}
}

// weigh prints the resident memory of the servers now.
func (s *suite) weigh(what string) {
	for _, c := range []string{"arl-apiserver", "etcd (ARL's, a pod)", "kube-apiserver", "etcd (kube-apiserver's)"} {
		var mib []string
		for _, m := range benchstats.RSSMiB(c) {
			mib = append(mib, fmt.Sprintf("%.0f MiB", m))
		}
		fmt.Printf("| └ memory of %s at %s | %d | | | | | %s | |\n", c, what, len(mib), strings.Join(mib, ", "))
	}
}

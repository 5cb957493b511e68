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
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/arl-infra/arl/hack/bench/benchstats"
	"github.com/arl-infra/arl/pkg/apis/arl"
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	arlclient "github.com/arl-infra/arl/pkg/generated/clientset/versioned/typed/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool/kube"
	"github.com/arl-infra/arl/pkg/sidecar/client"
	"github.com/arl-infra/arl/pkg/sidecar/pki"
	agentv1 "github.com/arl-infra/arl/proto/agent/v1"
)

const poolName = "bench-pool"

type bench struct {
	o    options
	cfg  *rest.Config
	arl  arlclient.ArlV1alpha1Interface
	kube kubernetes.Interface
	seq  int
}

func newBench(cfg *rest.Config, o options) (*bench, error) {
	arlCfg := cfg
	if o.arlServer != "" {
		arlCfg = rest.CopyConfig(cfg)
		arlCfg.Host = o.arlServer
		arlCfg.CAFile, arlCfg.CAData, arlCfg.ServerName = o.arlCA, nil, o.arlServerName
	}
	arl, err := arlclient.NewForConfig(arlCfg)
	if err != nil {
		return nil, err
	}
	kubeClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &bench{o: o, cfg: cfg, arl: arl, kube: kubeClient}, nil
}

func (b *bench) run(ctx context.Context) error {
	ns := b.o.namespace
	if _, err := b.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		// Standalone mode serves no namespaces: any name is usable.
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("namespace %s: %w", ns, err)
		}
	}
	if err := b.createPool(ctx, int32(b.o.poolReplicas)); err != nil {
		return err
	}
	defer b.cleanup()
	if err := b.waitSettled(ctx, int32(b.o.poolReplicas)); err != nil {
		return err
	}

	// A sandbox for the floors and the Task round trips.
	sb, err := b.bind(ctx, "floor")
	if err != nil {
		return err
	}
	if sb, err = b.waitReady(ctx, sb.Name); err != nil {
		return err
	}
	forkFloor := forkExecFloor(200)
	agentFloor, agentNote := b.agentFloor(ctx, sb, 200)

	header()
	row("fork/exec of `true` (floor)", forkFloor, nil, "")
	if len(agentFloor) > 0 {
		row("raw sidecar Execute `true` (floor)", agentFloor, forkFloor, agentNote)
	} else {
		fmt.Printf("| raw sidecar Execute `true` (floor) | 0 | | | | | | %s |\n", agentNote)
	}

	readFloor, err := b.readFloor(ctx, sb.Name, 200)
	if err != nil {
		return err
	}
	row("GET of a Sandbox (floor)", readFloor, nil, "the API path alone: no write")
	writeFloor, err := b.writeFloor(ctx, 100)
	if err != nil {
		return err
	}
	row("Sandbox create, nothing to bind (floor)", writeFloor, readFloor, "the API path and one ARL write: its pool does not exist")
	steady, cold, writes, err := b.bindSteady(ctx)
	if err != nil {
		return err
	}
	row(fmt.Sprintf("bind, steady %.0f/s (warm)", b.o.rate), steady, writeFloor, fmt.Sprintf("%d cold of %d; %s; floor: a create with nothing to bind", cold, b.o.binds, writes))
	if b.o.lifecycles > 0 {
		life, writes, err := b.lifecycles(ctx)
		if err != nil {
			return err
		}
		row(fmt.Sprintf("bind, %d Tasks, delete, one after another (reusePolicy %s)", b.o.lifecycleTasks, b.o.reusePolicy), life, nil, writes)
	}
	burst, burstAll, err := b.bindBurst(ctx)
	if err != nil {
		return err
	}
	row(fmt.Sprintf("bind, burst of %d (warm)", b.o.burst), burst, nil, fmt.Sprintf("%d of %d warm", len(burst), b.o.burst))
	row(fmt.Sprintf("bind, burst of %d, until Ready (all)", b.o.burst), burstAll, nil, "cold binds wait for a new pod")

	one, err := b.roundTrips(ctx, sb.Name, 1, b.o.tasks)
	if err != nil {
		return err
	}
	row("Task `true` via tasks/exec, 1 step", one, agentFloor, "floor: raw sidecar Execute")
	ten, err := b.roundTrips(ctx, sb.Name, 10, max(b.o.tasks/5, 20))
	if err != nil {
		return err
	}
	row("Task `true` via tasks/exec, 10 steps", ten, agentFloor, "")
	perStep := (ten.Percentile(0.5) - one.Percentile(0.5)) / 9
	fmt.Printf("| per-step overhead (10 steps − 1 step) / 9 | | %s | | %s | %s | | p50 difference, minus the floor |\n",
		ms(perStep), ms(agentFloor.Percentile(0.5)), ms(perStep-agentFloor.Percentile(0.5)))

	var levels []int
	for _, c := range strings.Split(b.o.concurrency, ",") {
		if n, _ := strconv.Atoi(strings.TrimSpace(c)); n > 0 {
			levels = append(levels, n)
		}
	}
	if err := b.execRows(ctx, sb, b.o.tasks, levels, agentFloor); err != nil {
		return err
	}
	for _, n := range levels {
		cpu := benchstats.CPUNow()
		perSec, lat, err := b.throughput(ctx, n)
		if err != nil {
			return err
		}
		fmt.Printf("| Tasks/s at concurrency %d | %d | %s | %s | | | | **%.0f tasks/s**; per Task %s |\n",
			n, len(lat), ms(lat.Percentile(0.5)), ms(lat.Percentile(0.99)), perSec, cpu.Since().PerOp(len(lat)))
	}
	return nil
}

func (b *bench) createPool(ctx context.Context, replicas int32) error {
	_, err := b.arl.WarmPools(b.o.namespace).Create(ctx, &arlv1alpha1.WarmPool{
		ObjectMeta: metav1.ObjectMeta{Name: poolName},
		Spec: arlv1alpha1.WarmPoolSpec{Replicas: ptr.To(replicas), ReusePolicy: arlv1alpha1.ReusePolicy(b.o.reusePolicy), Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: arl.ExecutorContainerName, Image: b.o.image, Command: []string{"sleep", "infinity"}}},
		}}},
	}, metav1.CreateOptions{})
	return err
}

func (b *bench) scalePool(ctx context.Context, replicas int32) error {
	// The pool's status is written meanwhile: a conflict reads it again.
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		scale, err := b.arl.WarmPools(b.o.namespace).GetScale(ctx, poolName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		scale.Spec.Replicas = replicas
		_, err = b.arl.WarmPools(b.o.namespace).UpdateScale(ctx, poolName, scale, metav1.UpdateOptions{})
		return err
	})
}

func (b *bench) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	_ = b.arl.Sandboxes(b.o.namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	_ = b.arl.Tasks(b.o.namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	_ = b.arl.WarmPools(b.o.namespace).Delete(ctx, poolName, metav1.DeleteOptions{})
}

func (b *bench) nextName(prefix string) string {
	b.seq++
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1000000, b.seq)
}

func (b *bench) bind(ctx context.Context, prefix string) (*arlv1alpha1.Sandbox, error) {
	return b.arl.Sandboxes(b.o.namespace).Create(ctx, &arlv1alpha1.Sandbox{
		ObjectMeta: metav1.ObjectMeta{Name: b.nextName(prefix), Labels: map[string]string{"arlbench": prefix}},
		Spec:       arlv1alpha1.SandboxSpec{PoolRef: poolName, KeepAlive: true},
	}, metav1.CreateOptions{})
}

// waitReady watches a Sandbox until it is Ready.
func (b *bench) waitReady(ctx context.Context, name string) (*arlv1alpha1.Sandbox, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for {
		sb, err := b.arl.Sandboxes(b.o.namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if sb.Status.Phase == arlv1alpha1.SandboxReady {
			return sb, nil
		}
		w, err := b.arl.Sandboxes(b.o.namespace).Watch(ctx, metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String(), ResourceVersion: sb.ResourceVersion})
		if err != nil {
			return nil, err
		}
		for ev := range w.ResultChan() {
			if s, ok := ev.Object.(*arlv1alpha1.Sandbox); ok && s.Status.Phase == arlv1alpha1.SandboxReady {
				w.Stop()
				return s, nil
			}
		}
		w.Stop()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// bindSteady binds at the configured rate; warm binds are those Ready in
// their create response. It also counts ARL etcd writes per bind from the
// store revision (resourceVersion) before and after, once things settle.
func (b *bench) bindSteady(ctx context.Context) (sample, int, string, error) {
	rv0, err := b.revision(ctx)
	if err != nil {
		return nil, 0, "", err
	}
	var warm sample
	cold := 0
	interval := time.Duration(float64(time.Second) / b.o.rate)
	next := time.Now()
	for i := 0; i < b.o.binds; i++ {
		time.Sleep(time.Until(next))
		next = next.Add(interval)
		start := time.Now()
		sb, err := b.bind(ctx, "steady")
		if err != nil {
			return nil, 0, "", err
		}
		if sb.Status.Phase == arlv1alpha1.SandboxReady {
			warm = append(warm, time.Since(start))
		} else {
			cold++
		}
	}
	if err := b.waitSettled(ctx, int32(b.o.poolReplicas)); err != nil {
		return nil, 0, "", err
	}
	time.Sleep(2 * time.Second)
	rv1, err := b.revision(ctx)
	if err != nil {
		return nil, 0, "", err
	}
	writes := fmt.Sprintf("%.2f ARL etcd writes per bind incl. pool status and, with --pod-claims=etcd, the claim", float64(rv1-rv0)/float64(b.o.binds))
	_ = b.arl.Sandboxes(b.o.namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "arlbench=steady"})
	if err := b.waitSettled(ctx, int32(b.o.poolReplicas)); err != nil {
		return nil, 0, "", err
	}
	return warm, cold, writes, nil
}

// readFloor times n GETs of a Sandbox: what the API path costs alone.
func (b *bench) readFloor(ctx context.Context, name string, n int) (sample, error) {
	var s sample
	for range n {
		start := time.Now()
		if _, err := b.arl.Sandboxes(b.o.namespace).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return nil, err
		}
		s = append(s, time.Since(start))
	}
	return s, nil
}

// writeFloor times n creates of Sandboxes whose pool does not exist, at
// 10/s: the API path and one ARL write, no claim and no refill.
func (b *bench) writeFloor(ctx context.Context, n int) (sample, error) {
	const prefix = "floor-write"
	var s sample
	next := time.Now()
	for range n {
		time.Sleep(time.Until(next))
		next = next.Add(100 * time.Millisecond)
		start := time.Now()
		_, err := b.arl.Sandboxes(b.o.namespace).Create(ctx, &arlv1alpha1.Sandbox{
			ObjectMeta: metav1.ObjectMeta{Name: b.nextName(prefix), Labels: map[string]string{"arlbench": prefix}},
			Spec:       arlv1alpha1.SandboxSpec{PoolRef: "arlbench-no-such-pool"},
		}, metav1.CreateOptions{})
		if err != nil {
			return nil, err
		}
		s = append(s, time.Since(start))
	}
	err := b.arl.Sandboxes(b.o.namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "arlbench=" + prefix})
	return s, err
}

// revision is the ARL store's current revision.
func (b *bench) revision(ctx context.Context) (int64, error) {
	list, err := b.arl.Sandboxes(b.o.namespace).List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(list.ResourceVersion, 10, 64)
}

// bindBurst creates a burst of Sandboxes at once.
func (b *bench) bindBurst(ctx context.Context) (warm, all sample, err error) {
	if err := b.scalePool(ctx, int32(b.o.burst)); err != nil {
		return nil, nil, err
	}
	if err := b.waitSettled(ctx, int32(b.o.burst)); err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, b.o.burst)
	for i := 0; i < b.o.burst; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			start := time.Now()
			sb, err := b.arl.Sandboxes(b.o.namespace).Create(ctx, &arlv1alpha1.Sandbox{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("burst-%d", i), Labels: map[string]string{"arlbench": "burst"}},
				Spec:       arlv1alpha1.SandboxSpec{PoolRef: poolName, KeepAlive: true},
			}, metav1.CreateOptions{})
			if err != nil {
				errs <- err
				return
			}
			isWarm := sb.Status.Phase == arlv1alpha1.SandboxReady
			latency := time.Since(start)
			if !isWarm {
				if _, err := b.waitReady(ctx, sb.Name); err != nil {
					errs <- err
					return
				}
				latency = time.Since(start)
			}
			mu.Lock()
			defer mu.Unlock()
			if isWarm {
				warm = append(warm, latency)
			}
			all = append(all, latency)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return nil, nil, err
	}
	_ = b.arl.Sandboxes(b.o.namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "arlbench=burst"})
	if err := b.scalePool(ctx, int32(b.o.poolReplicas)); err != nil {
		return nil, nil, err
	}
	if err := b.waitSettled(ctx, int32(b.o.poolReplicas)); err != nil {
		return nil, nil, err
	}
	return warm, all, nil
}

// exec runs a Task of `steps` Commands `true` through tasks/exec.
func (b *bench) exec(ctx context.Context, sandbox string, steps int) (time.Duration, error) {
	task := &arlv1alpha1.Task{
		TypeMeta:   metav1.TypeMeta{APIVersion: arlv1alpha1.SchemeGroupVersion.String(), Kind: "Task"},
		ObjectMeta: metav1.ObjectMeta{Name: b.nextName("t")},
		Spec:       arlv1alpha1.TaskSpec{SandboxRef: sandbox},
	}
	for i := 0; i < steps; i++ {
		task.Spec.Steps = append(task.Spec.Steps, arlv1alpha1.TaskStep{Name: fmt.Sprintf("s%d", i), Type: arlv1alpha1.StepCommand, Command: []string{"true"}})
	}
	body, err := json.Marshal(task)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	out := &arlv1alpha1.Task{}
	err = b.arl.RESTClient().Post().Namespace(b.o.namespace).Resource("tasks").Name(task.Name).SubResource("exec").
		Body(body).SetHeader("Content-Type", "application/json").Do(ctx).Into(out)
	elapsed := time.Since(start)
	if err == nil && out.Status.State != arlv1alpha1.TaskSucceeded {
		err = fmt.Errorf("task %s: %s %v", out.Name, out.Status.State, out.Status.Conditions)
	}
	return elapsed, err
}

func (b *bench) roundTrips(ctx context.Context, sandbox string, steps, n int) (sample, error) {
	var s sample
	for i := 0; i < n; i++ {
		d, err := b.exec(ctx, sandbox, steps)
		if err != nil {
			return nil, err
		}
		s = append(s, d)
	}
	return s, nil
}

// throughput runs n clients, each on its own Sandbox, for a while.
func (b *bench) throughput(ctx context.Context, n int) (float64, sample, error) {
	if err := b.scalePool(ctx, int32(max(n, b.o.poolReplicas))); err != nil {
		return 0, nil, err
	}
	if err := b.waitSettled(ctx, int32(max(n, b.o.poolReplicas))); err != nil {
		return 0, nil, err
	}
	names := make([]string, n)
	for i := range names {
		sb, err := b.bind(ctx, fmt.Sprintf("tp%d", n))
		if err != nil {
			return 0, nil, err
		}
		if _, err := b.waitReady(ctx, sb.Name); err != nil {
			return 0, nil, err
		}
		names[i] = sb.Name
	}
	// The pool refills behind these binds; measure once it has.
	if err := b.waitSettled(ctx, int32(max(n, b.o.poolReplicas))); err != nil {
		return 0, nil, err
	}
	var mu sync.Mutex
	var lat sample
	var wg sync.WaitGroup
	errs := make(chan error, n)
	deadline := time.Now().Add(b.o.throughputFor)
	start := time.Now()
	for _, name := range names {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				d, err := b.exec(ctx, name, 1)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
		}(name)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		return 0, nil, err
	}
	for _, name := range names {
		_ = b.arl.Sandboxes(b.o.namespace).Delete(ctx, name, metav1.DeleteOptions{})
	}
	_ = b.arl.Tasks(b.o.namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	if err := b.scalePool(ctx, int32(b.o.poolReplicas)); err != nil {
		return 0, nil, err
	}
	if err := b.waitSettled(ctx, int32(b.o.poolReplicas)); err != nil {
		return 0, nil, err
	}
	return float64(len(lat)) / elapsed.Seconds(), lat, nil
}

func forkExecFloor(n int) sample {
	path, _ := exec.LookPath("true")
	var s sample
	for i := 0; i < n; i++ {
		start := time.Now()
		_ = exec.Command(path).Run()
		s = append(s, time.Since(start))
	}
	return s
}

// agentFloor times raw Execute `true` calls to the Sandbox's agent: over
// its unix socket (standalone), or over mTLS to the pod (cluster), with a
// client certificate from the installation's sidecar CA.
func (b *bench) agentFloor(ctx context.Context, sb *arlv1alpha1.Sandbox, n int) (sample, string) {
	agent, note, err := b.dialAgent(ctx, sb)
	if err != nil {
		return nil, "n/a: " + err.Error()
	}
	defer agent.Close()
	var s sample
	for i := 0; i < n; i++ {
		d, err := agentTrue(ctx, agent)
		if err != nil {
			return nil, "n/a: " + err.Error()
		}
		s = append(s, d)
	}
	return s, note
}

// dialAgent reaches the sidecar of sb's pod directly, as arl-apiserver
// does: its unix socket in standalone, mTLS to the pod IP in a cluster.
func (b *bench) dialAgent(ctx context.Context, sb *arlv1alpha1.Sandbox) (*client.Client, string, error) {
	target := client.Target{Address: strings.TrimPrefix(sb.Status.PodIP, "unix://")}
	note := "unix socket"
	if !strings.HasPrefix(sb.Status.PodIP, "unix://") {
		tlsConfig, err := b.clusterTLS(ctx)
		if err != nil {
			return nil, "", err
		}
		target = client.Target{Address: sb.Status.PodIP + ":50051", TLS: tlsConfig}
		note = "mTLS to the pod"
	}
	agent, err := client.Dial(ctx, target)
	return agent, note, err
}

// agentTrue is one raw Execute of `true`.
func agentTrue(ctx context.Context, agent *client.Client) (time.Duration, error) {
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := agent.Exec(callCtx, &agentv1.ExecRequest{Command: []string{"true"}}, nil); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func (b *bench) clusterTLS(ctx context.Context) (*tls.Config, error) {
	secret, err := b.kube.CoreV1().Secrets("arl-system").Get(ctx, kube.CASecret, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	ca, err := pki.LoadCA(secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey])
	if err != nil {
		return nil, err
	}
	kp, err := ca.Issue("arlbench", time.Hour, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth})
	if err != nil {
		return nil, err
	}
	return pki.ClientTLS(kp, ca.CertPEM, kube.SidecarServerName)
}

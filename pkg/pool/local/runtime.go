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

// Package local runs pool pods as local processes for standalone mode: each
// pod is an arl-sidecar agent in its own bubblewrap sandbox (private
// /workspace and /tmp, own PID and network namespaces, the host's
// filesystem read-only), reached over a unix socket. Pods outlive the
// server: a restarted server adopts them from their pod.json.
package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/klog/v2"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/sidecar/client"
)

// Options configure the local runtime.
type Options struct {
	// Dir holds one directory per pod (<Dir>/<namespace>/<name>).
	Dir string
	// SidecarBinary is the arl-sidecar executable bound into every sandbox.
	SidecarBinary string
	// Bwrap is the bubblewrap executable.
	Bwrap string
	// Hide are host paths sandboxes must not see (the server's data directory).
	Hide []string
}

// Runtime is the local pool.Runtime.
type Runtime struct {
	opts     Options
	nodeName string

	mu       sync.Mutex
	pods     map[string]*localPod
	onChange func(*pool.Pod, bool)
	synced   bool
}

var podsResource = corev1.Resource("pods")

// localPod is one sandbox and what is known of its process.
type localPod struct {
	meta        meta
	dir         string
	ready       bool
	failed      bool
	reason      string
	message     string
	terminating bool
	// exited is closed when the sandbox's process is gone.
	exited chan struct{}
}

var _ pool.Runtime = &Runtime{}

// New returns a local runtime; Run adopts the pods already in opts.Dir.
func New(opts Options) (*Runtime, error) {
	if opts.Bwrap == "" {
		opts.Bwrap = "bwrap"
	}
	bwrap, err := exec.LookPath(opts.Bwrap)
	if err != nil {
		return nil, fmt.Errorf("the local runtime needs bubblewrap (Debian package bubblewrap; `make run` installs it): %w", err)
	}
	opts.Bwrap = bwrap
	if _, err := os.Stat(opts.SidecarBinary); err != nil {
		return nil, fmt.Errorf("the local runtime needs the arl-sidecar binary: %w", err)
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	return &Runtime{opts: opts, nodeName: host, pods: map[string]*localPod{}}, nil
}

// Run adopts existing pods, then reports changes until ctx ends.
func (r *Runtime) Run(ctx context.Context, onChange func(*pool.Pod, bool)) error {
	r.mu.Lock()
	r.onChange = onChange
	r.mu.Unlock()
	r.adopt(ctx)
	r.mu.Lock()
	r.synced = true
	pods := make([]*pool.Pod, 0, len(r.pods))
	for _, p := range r.pods {
		pods = append(pods, p.snapshot(r.nodeName, r.socketPath(p)))
	}
	r.mu.Unlock()
	for _, p := range pods {
		onChange(p, false)
	}
	<-ctx.Done()
	return nil
}

// HasSynced implements pool.Runtime.
func (r *Runtime) HasSynced() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.synced
}

// Get implements pool.Runtime.
func (r *Runtime) Get(namespace, name string) (*pool.Pod, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pods[namespace+"/"+name]
	if !ok {
		return nil, false
	}
	return p.snapshot(r.nodeName, r.socketPath(p)), true
}

// List implements pool.Runtime.
func (r *Runtime) List(namespace, poolName string) []*pool.Pod {
	return r.list(func(m *meta) bool { return m.Namespace == namespace && m.Pool == poolName })
}

// ListAll implements pool.Runtime.
func (r *Runtime) ListAll() []*pool.Pod {
	return r.list(func(*meta) bool { return true })
}

func (r *Runtime) list(match func(*meta) bool) []*pool.Pod {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*pool.Pod
	for _, p := range r.pods {
		if match(&p.meta) {
			out = append(out, p.snapshot(r.nodeName, r.socketPath(p)))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// TemplateHash implements pool.Runtime.
func (r *Runtime) TemplateHash(p *arl.WarmPool) string {
	return pool.HashTemplate(&p.Spec.Template, "local")
}

// Target implements pool.Runtime: the agent's socket, no TLS.
func (r *Runtime) Target(p *pool.Pod) client.Target {
	return client.Target{Address: filepath.Join(r.opts.Dir, p.Namespace, p.Name, "run", "agent.sock")}
}

// Address implements pool.Runtime: a local sandbox has no IP reachable from
// the host, so its address is its agent's socket.
func (r *Runtime) Address(p *pool.Pod) string {
	return "unix://" + r.Target(p).Address
}

func (r *Runtime) socketPath(p *localPod) string {
	return filepath.Join(p.dir, "run", "agent.sock")
}

// Create implements pool.Runtime: it starts a new sandbox for the pool.
func (r *Runtime) Create(ctx context.Context, p *arl.WarmPool) (*pool.Pod, error) {
	executor := pool.ExecutorContainer(&p.Spec.Template.Spec)
	if executor == nil {
		return nil, fmt.Errorf("WarmPool %s/%s has no container", p.Namespace, p.Name)
	}
	name := p.Name + "-" + rand.String(5)
	dir := filepath.Join(r.opts.Dir, p.Namespace, name)
	for _, sub := range []string{"workspace", "tmp", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	// Sandboxes' /tmp is world-writable, as a real /tmp.
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return nil, err
	}
	lp := &localPod{
		dir:    dir,
		exited: make(chan struct{}),
		meta: meta{
			Namespace: p.Namespace, Name: name, UID: uuid.NewUUID(), Version: 1,
			Pool: p.Name, State: pool.PodIdle, TemplateHash: r.TemplateHash(p), Created: time.Now(),
		},
	}
	pid, err := r.start(lp, executor)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	lp.meta.PID = pid
	if err := lp.meta.save(dir); err != nil {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		os.RemoveAll(dir)
		return nil, err
	}
	r.mu.Lock()
	r.pods[lp.meta.Namespace+"/"+name] = lp
	snap := lp.snapshot(r.nodeName, r.socketPath(lp))
	r.mu.Unlock()
	r.notify(snap, false)
	go r.waitReady(lp)
	return snap, nil
}

// start launches the sandbox and returns the host pid of its PID 1.
func (r *Runtime) start(lp *localPod, executor *corev1.Container) (int, error) {
	logFile, err := os.OpenFile(filepath.Join(lp.dir, "agent.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer logFile.Close()
	infoR, infoW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer infoR.Close()
	cmd := exec.Command(r.opts.Bwrap, bwrapArgs(lp.dir, r.opts.SidecarBinary, executor, r.opts.Hide)...)
	cmd.Env = scrubbedEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{infoW}
	// Its own session: a ^C to the server's terminal does not reach sandboxes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		infoW.Close()
		return 0, fmt.Errorf("starting bubblewrap: %w", err)
	}
	infoW.Close()
	var info struct {
		ChildPID int `json:"child-pid"`
	}
	if err := json.NewDecoder(io.LimitReader(infoR, 1<<16)).Decode(&info); err != nil || info.ChildPID == 0 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log, _ := os.ReadFile(filepath.Join(lp.dir, "agent.log"))
		return 0, fmt.Errorf("bubblewrap did not start the sandbox: %v: %s", err, strings.TrimSpace(string(log)))
	}
	go func() {
		err := cmd.Wait()
		r.markExited(lp, err)
	}()
	return info.ChildPID, nil
}

// adopt loads the pods a previous server left and checks which still run.
func (r *Runtime) adopt(ctx context.Context) {
	namespaces, _ := os.ReadDir(r.opts.Dir)
	for _, ns := range namespaces {
		pods, _ := os.ReadDir(filepath.Join(r.opts.Dir, ns.Name()))
		for _, entry := range pods {
			dir := filepath.Join(r.opts.Dir, ns.Name(), entry.Name())
			m, err := loadMeta(dir)
			if err != nil {
				klog.FromContext(ctx).Info("Removing a local pod without metadata", "dir", dir, "err", err)
				os.RemoveAll(dir)
				continue
			}
			lp := &localPod{meta: *m, dir: dir, exited: make(chan struct{})}
			r.mu.Lock()
			r.pods[m.Namespace+"/"+m.Name] = lp
			r.mu.Unlock()
			if !sandboxAlive(m.PID) {
				r.markExited(lp, errors.New("the sandbox ended while arl-apiserver was not running"))
				continue
			}
			go r.watchAdopted(lp)
			go r.waitReady(lp)
		}
	}
}

// sandboxAlive says whether pid is still a sandbox's agent.
func sandboxAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return err == nil && strings.Contains(string(cmdline), "arl-sidecar\x00agent")
}

// watchAdopted notices when an adopted sandbox (not our child) ends.
func (r *Runtime) watchAdopted(lp *localPod) {
	for sandboxAlive(lp.meta.PID) {
		select {
		case <-lp.exited:
			return
		case <-time.After(time.Second):
		}
	}
	r.markExited(lp, errors.New("the sandbox's agent exited"))
}

// waitReady polls the agent until it answers, then marks the pod Ready.
func (r *Runtime) waitReady(lp *localPod) {
	// The socket appears once the agent runs its command; dialing earlier
	// only makes gRPC log connection errors.
	for !fileExists(r.socketPath(lp)) {
		select {
		case <-lp.exited:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
	agent, err := client.Dial(context.Background(), client.Target{Address: r.socketPath(lp)})
	if err != nil {
		return
	}
	defer agent.Close()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := agent.Health(ctx)
		cancel()
		if err == nil {
			r.mu.Lock()
			if lp.failed || lp.terminating {
				r.mu.Unlock()
				return
			}
			lp.ready = true
			snap := lp.snapshot(r.nodeName, r.socketPath(lp))
			r.mu.Unlock()
			r.notify(snap, false)
			return
		}
		select {
		case <-lp.exited:
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// markExited records that a sandbox's process ended.
func (r *Runtime) markExited(lp *localPod, err error) {
	r.mu.Lock()
	select {
	case <-lp.exited:
		r.mu.Unlock()
		return
	default:
		close(lp.exited)
	}
	if lp.terminating {
		r.mu.Unlock()
		return
	}
	lp.ready, lp.failed = false, true
	lp.reason = "SandboxExited"
	lp.message = fmt.Sprintf("the sandbox process ended (%v)", err)
	if tail := logTail(filepath.Join(lp.dir, "agent.log"), 512); tail != "" {
		lp.message += ": " + tail
	}
	snap := lp.snapshot(r.nodeName, r.socketPath(lp))
	r.mu.Unlock()
	r.notify(snap, false)
}

// Claim implements pool.Runtime.
func (r *Runtime) Claim(ctx context.Context, p *pool.Pod, sandbox string) (*pool.Pod, error) {
	return r.update(p, func(m *meta) error {
		if m.State != pool.PodIdle {
			return pool.ErrConflict
		}
		m.State, m.Sandbox, m.ClaimedAt = pool.PodAllocated, sandbox, time.Now()
		return nil
	})
}

// Release implements pool.Runtime.
func (r *Runtime) Release(ctx context.Context, p *pool.Pod) (*pool.Pod, error) {
	return r.update(p, func(m *meta) error {
		if m.State != pool.PodAllocated {
			return pool.ErrConflict
		}
		m.State, m.Sandbox, m.ClaimedAt = pool.PodIdle, "", time.Time{}
		return nil
	})
}

// update changes a pod's metadata if it is still at the version read.
func (r *Runtime) update(p *pool.Pod, mutate func(*meta) error) (*pool.Pod, error) {
	r.mu.Lock()
	lp, ok := r.pods[p.Key()]
	if !ok {
		r.mu.Unlock()
		return nil, apierrors.NewNotFound(podsResource, p.Name)
	}
	if strconv.FormatInt(lp.meta.Version, 10) != p.Version || lp.terminating || lp.failed {
		r.mu.Unlock()
		return nil, pool.ErrConflict
	}
	m := lp.meta
	if err := mutate(&m); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	m.Version++
	if err := m.save(lp.dir); err != nil {
		r.mu.Unlock()
		return nil, err
	}
	lp.meta = m
	snap := lp.snapshot(r.nodeName, r.socketPath(lp))
	r.mu.Unlock()
	r.notify(snap, false)
	return snap, nil
}

// Delete implements pool.Runtime: it kills the sandbox (its PID 1, so the
// kernel ends every process of its namespace) and removes its files.
func (r *Runtime) Delete(ctx context.Context, p *pool.Pod) error {
	r.mu.Lock()
	lp, ok := r.pods[p.Key()]
	if !ok {
		r.mu.Unlock()
		return nil
	}
	lp.terminating, lp.ready = true, false
	snap := lp.snapshot(r.nodeName, r.socketPath(lp))
	r.mu.Unlock()
	r.notify(snap, false)

	if sandboxAlive(lp.meta.PID) {
		_ = syscall.Kill(lp.meta.PID, syscall.SIGKILL)
	}
	select {
	case <-lp.exited:
	case <-time.After(10 * time.Second):
	}
	r.mu.Lock()
	delete(r.pods, p.Key())
	r.mu.Unlock()
	r.notify(snap, true)
	// The pod is gone once its pod.json is; removing a large workspace
	// takes time, and nobody waits for it.
	_ = os.Remove(filepath.Join(lp.dir, "pod.json"))
	go os.RemoveAll(lp.dir)
	return nil
}

func (r *Runtime) notify(p *pool.Pod, deleted bool) {
	r.mu.Lock()
	onChange := r.onChange
	r.mu.Unlock()
	if onChange != nil {
		onChange(p, deleted)
	}
}

// snapshot is the pool's view of the pod; the caller holds r.mu.
func (lp *localPod) snapshot(node, socket string) *pool.Pod {
	m := &lp.meta
	return &pool.Pod{
		Namespace: m.Namespace, Name: m.Name, UID: m.UID, Version: strconv.FormatInt(m.Version, 10),
		Pool: m.Pool, State: m.State, Sandbox: m.Sandbox, TemplateHash: m.TemplateHash,
		Ready: lp.ready, Failed: lp.failed, FailureReason: lp.reason, FailureMessage: lp.message,
		Terminating: lp.terminating, Node: node, Created: m.Created, ClaimedAt: m.ClaimedAt,
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func logTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > n {
		_, _ = f.Seek(info.Size()-n, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	return strings.TrimSpace(string(data))
}

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
// /workspace and /tmp, own user, PID and network namespaces, no
// capabilities, a seccomp filter, the host's filesystem read-only), run as
// an unprivileged uid of its own in a cgroup of its own, and reached over a
// unix socket. Pods outlive the server: a restarted server adopts them from
// their pod.json, and kills what no pod.json owns. See docs/security.md.
package local

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
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
	arlv1alpha1 "github.com/arl-infra/arl/pkg/apis/arl/v1alpha1"
	"github.com/arl-infra/arl/pkg/pool"
	"github.com/arl-infra/arl/pkg/pool/local/launcher"
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
	// Limits bound every sandbox; a pool's executor resources.limits (cpu,
	// memory) replace the defaults given here.
	Limits Limits
	// FirstUID starts the host uids sandboxes run as, one uid each (when
	// the server runs as root; otherwise they run as the server's uid).
	// Each pod directory takes its own block of uidBlock uids from the
	// uidBlocks after FirstUID, so two servers' sandboxes rarely share one.
	FirstUID int
}

// DefaultFirstUID is far above the ids of users and of subordinate id ranges.
const DefaultFirstUID = 1_000_000_000

const (
	uidBlock  = 1 << 16
	uidBlocks = 1 << 12
)

// Runtime is the local pool.Runtime.
type Runtime struct {
	opts     Options
	nodeName string
	firstUID int
	// privileged: the server is root, so sandboxes get uids of their own
	// and go through the launcher.
	privileged bool
	// cgroups is nil where sandboxes cannot be limited.
	cgroups *cgroups
	seccomp []byte

	mu       sync.Mutex
	pods     map[string]*localPod
	uids     map[int]bool
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
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	opts.Dir = dir
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	if opts.FirstUID <= 0 {
		opts.FirstUID = DefaultFirstUID
	}
	filter, err := seccompBytes()
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	id := sha256.Sum256([]byte(opts.Dir))
	r := &Runtime{opts: opts, nodeName: host, privileged: os.Geteuid() == 0, seccomp: filter,
		firstUID: opts.FirstUID + int(binary.BigEndian.Uint16(id[6:])%uidBlocks)*uidBlock,
		pods:     map[string]*localPod{}, uids: map[int]bool{}}
	if !r.privileged {
		klog.InfoS("Not running as root: local sandboxes run as this server's uid (still without capabilities) and without resource limits")
		return r, nil
	}
	mountinfo, err := os.ReadFile("/proc/self/mountinfo")
	if err == nil {
		// One parent per pod directory: a server finds the sandboxes of its
		// own directory, including those whose pod.json was lost.
		r.cgroups, err = newCgroups(parseCgroupMounts(mountinfo), "arl/"+hex.EncodeToString(id[:6]))
	}
	if err == nil {
		// Where they are, for people and for test harnesses cleaning up.
		err = os.WriteFile(filepath.Join(opts.Dir, CgroupsFile), []byte(strings.Join(r.cgroups.parents, "\n")+"\n"), 0o644)
	}
	if err != nil {
		r.cgroups = nil
		klog.ErrorS(err, "Local sandboxes get no cgroups: no memory, CPU or process limits")
	}
	return r, nil
}

// CgroupsFile, in the pod directory, lists the parent cgroup directories
// of its sandboxes, one per line.
const CgroupsFile = "cgroups"

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
func (r *Runtime) TemplateHash(p *arlv1alpha1.WarmPool) string {
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
// Its pod.json and cgroup exist before it starts, so a server that dies
// meanwhile leaves nothing a restart cannot find.
func (r *Runtime) Create(ctx context.Context, p *arlv1alpha1.WarmPool) (*pool.Pod, error) {
	// Only the executor runs here: the agent serves in its place what the
	// sidecar container serves in a cluster, and the template's own
	// sidecar container (see arl.SidecarContainerName) runs nowhere.
	executor := arl.ExecutorContainer(&p.Spec.Template.Spec)
	if executor == nil {
		return nil, fmt.Errorf("WarmPool %s/%s has no container", p.Namespace, p.Name)
	}
	name := p.Name + "-" + rand.String(5)
	lp := &localPod{
		dir:    filepath.Join(r.opts.Dir, p.Namespace, name),
		exited: make(chan struct{}),
		meta: meta{
			Namespace: p.Namespace, Name: name, UID: uuid.NewUUID(), Version: 1,
			Pool: p.Name, State: pool.PodIdle, TemplateHash: r.TemplateHash(p), Created: time.Now(),
			HostUID: r.allocateUID(),
		},
	}
	pid, err := r.prepareAndStart(lp, executor, emptyDirBinds(&p.Spec.Template.Spec, executor))
	if err != nil {
		r.discard(lp)
		return nil, err
	}
	lp.meta.PID = pid
	if err := lp.meta.save(lp.dir); err != nil {
		r.discard(lp)
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

// podDir is a directory of a local pod, relative to the pod's.
type podDir struct {
	path string
	mode os.FileMode
}

// prepareAndStart makes the pod's directories (its emptyDir volumes'
// too), pod.json and cgroup, then starts it.
func (r *Runtime) prepareAndStart(lp *localPod, executor *corev1.Container, volumes []volumeBind) (int, error) {
	if err := os.MkdirAll(lp.dir, 0o700); err != nil {
		return 0, err
	}
	// In order: a directory's parent comes first.
	dirs := []podDir{{"workspace", 0o755}, {"tmp", 0o1777}, {"run", 0o700}}
	if len(volumes) > 0 {
		dirs = append(dirs, podDir{volumesDir, 0o755})
	}
	for _, v := range volumes {
		dir := filepath.Join(volumesDir, v.volume)
		dirs = append(dirs, podDir{dir, 0o755})
		// A subPath is made inside the volume, as a kubelet makes it.
		if v.subPath != "" {
			for _, part := range strings.Split(filepath.Clean(v.subPath), string(filepath.Separator)) {
				dir = filepath.Join(dir, part)
				dirs = append(dirs, podDir{dir, 0o755})
			}
		}
	}
	for _, d := range dirs {
		sub, mode := d.path, d.mode
		path := filepath.Join(lp.dir, sub)
		if err := os.Mkdir(path, mode); err != nil && !os.IsExist(err) {
			return 0, err
		}
		// Mkdir applies the umask, and drops the sticky bit.
		if err := os.Chmod(path, mode); err != nil {
			return 0, err
		}
		if r.privileged {
			if err := os.Chown(path, lp.meta.HostUID, lp.meta.HostUID); err != nil {
				return 0, err
			}
		}
	}
	if err := lp.meta.save(lp.dir); err != nil {
		return 0, err
	}
	if r.cgroups != nil {
		if err := r.cgroups.create(cgroupName(&lp.meta), r.limits(executor)); err != nil {
			return 0, err
		}
	}
	return r.start(lp, executor, volumes)
}

// discard undoes a Create that failed.
func (r *Runtime) discard(lp *localPod) {
	if r.cgroups != nil {
		if err := r.cgroups.destroy(cgroupName(&lp.meta), 10*time.Second); err != nil {
			klog.ErrorS(err, "Removing the cgroup of a sandbox that failed to start")
		}
	}
	os.RemoveAll(lp.dir)
	r.mu.Lock()
	delete(r.uids, lp.meta.HostUID)
	r.mu.Unlock()
}

// allocateUID reserves the lowest free sandbox uid (0 when sandboxes run
// as the server's uid).
func (r *Runtime) allocateUID() int {
	if !r.privileged {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	uid := r.firstUID
	for r.uids[uid] {
		uid++
	}
	r.uids[uid] = true
	return uid
}

// limits are the server's defaults with the executor's limits over them.
func (r *Runtime) limits(executor *corev1.Container) Limits {
	l := r.opts.Limits
	if m := executor.Resources.Limits.Memory(); !m.IsZero() {
		l.MemoryBytes = m.Value()
	}
	if c := executor.Resources.Limits.Cpu(); !c.IsZero() {
		l.CPUMillis = c.MilliValue()
	}
	return l
}

func cgroupName(m *meta) string { return m.Namespace + "_" + m.Name }

// start launches the sandbox and returns the host pid of its PID 1. As
// root it goes through the launcher (see package launcher), which joins
// the cgroup and becomes the sandbox's uid before bubblewrap runs.
func (r *Runtime) start(lp *localPod, executor *corev1.Container, volumes []volumeBind) (int, error) {
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
	// The filter is far smaller than a pipe's buffer: it is written whole
	// before bubblewrap reads it.
	filterR, filterW, err := os.Pipe()
	if err != nil {
		infoW.Close()
		return 0, err
	}
	_, err = filterW.Write(r.seccomp)
	filterW.Close()
	if err != nil {
		infoW.Close()
		filterR.Close()
		return 0, err
	}
	cmd := r.command(lp, executor, volumes)
	cmd.Env = scrubbedEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{infoW, filterR} // infoFD, seccompFD
	// Its own session: a ^C to the server's terminal does not reach sandboxes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	infoW.Close()
	filterR.Close()
	if err != nil {
		return 0, fmt.Errorf("starting bubblewrap: %w", err)
	}
	var info struct {
		ChildPID int `json:"child-pid"`
	}
	if err := json.NewDecoder(io.LimitReader(infoR, 1<<16)).Decode(&info); err != nil || info.ChildPID == 0 {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		log, _ := os.ReadFile(filepath.Join(lp.dir, "agent.log"))
		return 0, fmt.Errorf("bubblewrap did not start the sandbox: %w: %s", err, strings.TrimSpace(string(log)))
	}
	go func() {
		err := cmd.Wait()
		r.markExited(lp, err)
	}()
	return info.ChildPID, nil
}

// command is the process that becomes the sandbox: bubblewrap, through the
// launcher when the server is root.
func (r *Runtime) command(lp *localPod, executor *corev1.Container, volumes []volumeBind) *exec.Cmd {
	hostname := filepath.Base(lp.dir)
	src := sandboxSources{
		workspace: filepath.Join(lp.dir, "workspace"),
		tmp:       filepath.Join(lp.dir, "tmp"),
		run:       filepath.Join(lp.dir, "run"),
		sidecar:   r.opts.SidecarBinary,
	}
	if r.cgroups != nil {
		src.oomEvents = r.cgroups.oomEvents(cgroupName(&lp.meta))
	}
	if !r.privileged {
		for _, v := range volumes {
			src.volumes = append(src.volumes, v.source(filepath.Join(lp.dir, volumesDir, v.volume)))
		}
		return exec.Command(r.opts.Bwrap, bwrapArgs(hostname, src, executor, r.opts.Hide)...)
	}
	spec := launcher.Spec{UID: lp.meta.HostUID, GID: lp.meta.HostUID, Stage: map[string]string{}}
	if r.cgroups != nil {
		spec.Cgroups = r.cgroups.procFiles(cgroupName(&lp.meta))
	}
	// bubblewrap, as the sandbox's uid, reaches the pod's directories
	// where the launcher staged them.
	for name, path := range map[string]*string{"workspace": &src.workspace, "tmp": &src.tmp, "run": &src.run, "arl-sidecar": &src.sidecar} {
		spec.Stage[name] = *path
		*path = filepath.Join(launcher.StageDir, name)
	}
	for _, v := range volumes {
		name := "volume-" + v.volume
		spec.Stage[name] = filepath.Join(lp.dir, volumesDir, v.volume)
		src.volumes = append(src.volumes, v.source(filepath.Join(launcher.StageDir, name)))
	}
	// The sandbox's uid reaches only what others may search; the rest it
	// cannot see, and bubblewrap (as that uid) could not cover it.
	var hide []string
	for _, h := range r.opts.Hide {
		if reachableByOthers(h) {
			hide = append(hide, h)
		}
	}
	spec.Command = append([]string{r.opts.Bwrap}, bwrapArgs(hostname, src, executor, hide)...)
	return exec.Command(r.opts.SidecarBinary, spec.Args()...)
}

// adopt loads the pods a previous server left and checks which still run.
// What no pod.json owns is killed: a sandbox whose start a crash cut short
// (pod.json without a pid) and one whose pod.json was deleted with the data
// directory (a cgroup without a pod).
func (r *Runtime) adopt(ctx context.Context) {
	logger := klog.FromContext(ctx)
	namespaces, _ := os.ReadDir(r.opts.Dir)
	for _, ns := range namespaces {
		if !ns.IsDir() {
			continue
		}
		pods, _ := os.ReadDir(filepath.Join(r.opts.Dir, ns.Name()))
		for _, entry := range pods {
			dir := filepath.Join(r.opts.Dir, ns.Name(), entry.Name())
			m, err := loadMeta(dir)
			if err != nil || m.PID == 0 {
				logger.Info("Removing a local pod that never started", "dir", dir, "err", err)
				if err == nil {
					r.destroyCgroup(m)
				}
				os.RemoveAll(dir)
				continue
			}
			lp := &localPod{meta: *m, dir: dir, exited: make(chan struct{})}
			r.mu.Lock()
			r.pods[m.Namespace+"/"+m.Name] = lp
			r.uids[m.HostUID] = true
			r.mu.Unlock()
			if !sandboxAlive(m.PID) {
				r.markExited(lp, errors.New("the sandbox ended while arl-apiserver was not running"))
				continue
			}
			go r.watchAdopted(lp)
			go r.waitReady(lp)
		}
	}
	if r.cgroups == nil {
		return
	}
	for _, name := range r.cgroups.names() {
		namespace, podName, _ := strings.Cut(name, "_")
		r.mu.Lock()
		_, owned := r.pods[namespace+"/"+podName]
		r.mu.Unlock()
		if !owned {
			logger.Info("Killing a local sandbox no pod owns", "cgroup", name, "processes", len(r.cgroups.procs(name)))
			if err := r.cgroups.destroy(name, 10*time.Second); err != nil {
				logger.Error(err, "Killing a local sandbox no pod owns failed")
			}
		}
	}
}

// destroyCgroup kills whatever runs in the pod's cgroup and removes it.
func (r *Runtime) destroyCgroup(m *meta) {
	if r.cgroups == nil {
		return
	}
	if err := r.cgroups.destroy(cgroupName(m), 10*time.Second); err != nil {
		klog.ErrorS(err, "Removing a local sandbox's cgroup failed", "pod", klog.KRef(m.Namespace, m.Name))
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
	r.destroyCgroup(&lp.meta)
	r.mu.Lock()
	delete(r.pods, p.Key())
	delete(r.uids, lp.meta.HostUID)
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
		Terminating: lp.terminating, Resized: m.Resized, Node: node, Created: m.Created, ClaimedAt: m.ClaimedAt,
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

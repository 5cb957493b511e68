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

package local

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
	"github.com/arl-infra/arl/pkg/pool"
)

// A local sandbox provides the executor's emptyDir volumes, as a kubelet
// would: each is a directory of the pod's own (under its volumes/), bound
// where the executor mounts it, and gone with the pod. /workspace is the
// sandbox's workspace whatever volume the template mounts there. Other
// volume kinds (a Secret, a PVC, a hostPath...) have no local meaning:
// they are not mounted, and the pool's create and update say so
// (TemplateWarnings).

// volumesDir holds a local pod's emptyDir volumes, one directory each.
const volumesDir = "volumes"

// volumeBind is one mount of an emptyDir volume in the sandbox.
type volumeBind struct {
	// volume is the volume's name: its directory is volumes/<volume>.
	volume string
	// subPath is the mount's subPath within the volume ("": all of it).
	subPath string
	// mountPath is where the sandbox sees it.
	mountPath string
	readOnly  bool
}

// source is the bind of the volume whose directory bubblewrap reaches at dir.
func (v volumeBind) source(dir string) volumeSource {
	return volumeSource{host: filepath.Join(dir, v.subPath), mountPath: v.mountPath, readOnly: v.readOnly}
}

// isEmptyDir tells, for each volume of the pod by name, whether it is an
// emptyDir.
func isEmptyDir(spec *corev1.PodSpec) map[string]bool {
	kinds := make(map[string]bool, len(spec.Volumes))
	for _, v := range spec.Volumes {
		kinds[v.Name] = v.EmptyDir != nil
	}
	return kinds
}

// emptyDirBinds are the executor's mounts of the template's emptyDir
// volumes, but /workspace's (the workspace serves it).
func emptyDirBinds(spec *corev1.PodSpec, executor *corev1.Container) []volumeBind {
	emptyDirs := isEmptyDir(spec)
	var binds []volumeBind
	for _, m := range executor.VolumeMounts {
		if !emptyDirs[m.Name] || path.Clean(m.MountPath) == workspaceDir || !mountable(m) {
			continue
		}
		binds = append(binds, volumeBind{volume: m.Name, subPath: m.SubPath, mountPath: path.Clean(m.MountPath), readOnly: m.ReadOnly})
	}
	return binds
}

// mountable says whether a local sandbox can mount m: at an absolute path
// that covers none of what the sandbox itself needs (its root, /proc, /dev,
// the agent's binary and socket), with a subPath inside the volume, where
// bubblewrap can make the mount point (the sandbox's root and private
// directories are its own; the host directories it sees are read-only, so
// a mount point in them must exist already).
func mountable(m corev1.VolumeMount) bool {
	p := path.Clean(m.MountPath)
	if !path.IsAbs(p) || p == "/" || (m.SubPath != "" && !filepath.IsLocal(m.SubPath)) {
		return false
	}
	for _, reserved := range []string{"/proc", "/dev", "/.arl", runDir} {
		if p == reserved || strings.HasPrefix(p, reserved+"/") || strings.HasPrefix(reserved, p+"/") {
			return false
		}
	}
	top, _, nested := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !nested || hiddenTopLevel[top] {
		return true
	}
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

// TemplateWarnings implements pool.TemplateWarner: the executor's mounts
// of volumes a local sandbox cannot provide.
func (r *Runtime) TemplateWarnings(spec *corev1.PodSpec, specPath *field.Path) []string {
	i := arl.ExecutorContainerIndex(spec)
	if i < 0 {
		return nil
	}
	kinds := isEmptyDir(spec)
	var warnings []string
	for j, m := range spec.Containers[i].VolumeMounts {
		emptyDir, known := kinds[m.Name]
		if !known || path.Clean(m.MountPath) == workspaceDir {
			continue
		}
		mountPath := specPath.Child("containers").Index(i).Child("volumeMounts").Index(j)
		switch {
		case !emptyDir:
			warnings = append(warnings, fmt.Sprintf("%s: volume %q is not an emptyDir: standalone sandboxes mount only emptyDir volumes, so %s is not mounted",
				mountPath, m.Name, m.MountPath))
		case !mountable(m):
			warnings = append(warnings, fmt.Sprintf("%s: a standalone sandbox cannot mount a volume at %q (subPath %q): it would cover what the sandbox needs",
				mountPath, m.MountPath, m.SubPath))
		}
	}
	return warnings
}

var _ pool.TemplateWarner = (*Runtime)(nil)

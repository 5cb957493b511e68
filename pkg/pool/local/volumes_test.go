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
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/arl-infra/arl/pkg/apis/arl"
)

// TestEmptyDirBinds: which of the executor's mounts a local sandbox binds,
// and which the pool's create warns about.
func TestEmptyDirBinds(t *testing.T) {
	emptyDir := corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
	for _, tc := range []struct {
		name        string
		mount       corev1.VolumeMount
		source      corev1.VolumeSource
		want        []volumeBind
		wantWarning string
	}{
		{name: "an emptyDir at the root", mount: corev1.VolumeMount{Name: "v", MountPath: "/testbed"}, source: emptyDir,
			want: []volumeBind{{volume: "v", mountPath: "/testbed"}}},
		{name: "read-only, with a subPath, in the workspace", mount: corev1.VolumeMount{Name: "v", MountPath: "/workspace/.cache/", SubPath: "pip", ReadOnly: true}, source: emptyDir,
			want: []volumeBind{{volume: "v", subPath: "pip", mountPath: "/workspace/.cache", readOnly: true}}},
		{name: "the workspace is the workspace", mount: corev1.VolumeMount{Name: "v", MountPath: "/workspace"}, source: emptyDir},
		{name: "in /tmp", mount: corev1.VolumeMount{Name: "v", MountPath: "/tmp/x"}, source: emptyDir,
			want: []volumeBind{{volume: "v", mountPath: "/tmp/x"}}},
		{name: "a host directory that exists", mount: corev1.VolumeMount{Name: "v", MountPath: "/usr/lib"}, source: emptyDir,
			want: []volumeBind{{volume: "v", mountPath: "/usr/lib"}}},
		{name: "in a host directory, where no mount point can be made", mount: corev1.VolumeMount{Name: "v", MountPath: "/usr/no-such-dir"}, source: emptyDir,
			wantWarning: "cannot mount a volume at \"/usr/no-such-dir\""},
		{name: "over the sandbox's root", mount: corev1.VolumeMount{Name: "v", MountPath: "/"}, source: emptyDir,
			wantWarning: "cannot mount a volume at \"/\""},
		{name: "over the agent's socket", mount: corev1.VolumeMount{Name: "v", MountPath: "/run/arl"}, source: emptyDir,
			wantWarning: "cannot mount"},
		{name: "over the agent's binary's parent", mount: corev1.VolumeMount{Name: "v", MountPath: "/.arl"}, source: emptyDir,
			wantWarning: "cannot mount"},
		{name: "a subPath out of the volume", mount: corev1.VolumeMount{Name: "v", MountPath: "/data", SubPath: "../../etc"}, source: emptyDir,
			wantWarning: "cannot mount"},
		{name: "a Secret", mount: corev1.VolumeMount{Name: "v", MountPath: "/etc/token"}, source: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}},
			wantWarning: `volume "v" is not an emptyDir`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &corev1.PodSpec{
				Containers: []corev1.Container{{Name: arl.ExecutorContainerName, VolumeMounts: []corev1.VolumeMount{tc.mount}}},
				Volumes:    []corev1.Volume{{Name: "v", VolumeSource: tc.source}},
			}
			got := emptyDirBinds(spec, &spec.Containers[0])
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(volumeBind{})); diff != "" {
				t.Errorf("binds (-want +got):\n%s", diff)
			}
			warnings := (&Runtime{}).TemplateWarnings(spec, field.NewPath("spec", "template", "spec"))
			switch {
			case tc.wantWarning == "" && len(warnings) > 0:
				t.Errorf("warnings %q, want none", warnings)
			case tc.wantWarning != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tc.wantWarning) ||
				!strings.HasPrefix(warnings[0], "spec.template.spec.containers[0].volumeMounts[0]: ")):
				t.Errorf("warnings %q, want one at spec.template.spec.containers[0].volumeMounts[0] saying %q", warnings, tc.wantWarning)
			}
		})
	}
}

// TestBwrapArgsBindVolumes: each volume is bound where it is mounted,
// read-only when asked, after the sandbox's own directories (a volume in
// /workspace or /tmp lands in the sandbox's, not the host's).
func TestBwrapArgsBindVolumes(t *testing.T) {
	src := sandboxSources{workspace: "w", tmp: "t", run: "r", sidecar: "s", volumes: []volumeSource{
		{host: "/pod/volumes/testbed", mountPath: "/testbed"},
		{host: "/pod/volumes/cache/pip", mountPath: "/workspace/.cache", readOnly: true},
	}}
	joined := " " + strings.Join(bwrapArgs("pool-abcde", src, &corev1.Container{Name: arl.ExecutorContainerName}, nil), " ") + " "
	for _, want := range []string{" --bind /pod/volumes/testbed /testbed ", " --ro-bind /pod/volumes/cache/pip /workspace/.cache "} {
		if !strings.Contains(joined, want) {
			t.Errorf("bubblewrap arguments lack %q:\n%s", want, joined)
		}
	}
	if strings.Index(joined, " /workspace/.cache ") < strings.Index(joined, " --bind w /workspace ") {
		t.Errorf("a volume in the workspace is bound before the workspace:\n%s", joined)
	}
}

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
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/arl-infra/arl/pkg/pool"
)

// meta is what a local pod keeps on disk (pod.json): its labels, in
// effect, so a restarted server adopts the pod as it was.
type meta struct {
	Namespace    string        `json:"namespace"`
	Name         string        `json:"name"`
	UID          types.UID     `json:"uid"`
	Version      int64         `json:"version"`
	Pool         string        `json:"pool"`
	State        pool.PodState `json:"state"`
	Sandbox      string        `json:"sandbox,omitempty"`
	TemplateHash string        `json:"templateHash"`
	Created      time.Time     `json:"created"`
	ClaimedAt    time.Time     `json:"claimedAt,omitempty"`
	// PID is the host pid of the sandbox's PID 1 (the agent); 0 while the
	// sandbox is being started.
	PID int `json:"pid,omitempty"`
	// HostUID is the unprivileged host uid (and gid) the sandbox runs as;
	// 0 when it runs as the server's uid (a server not run as root).
	HostUID int `json:"hostUID,omitempty"`
	// Resized: its cgroup limits were changed for its Sandbox (Resize).
	Resized bool `json:"resized,omitempty"`
}

// save writes pod.json atomically (temp file and rename).
func (m *meta) save(dir string) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ".pod.json."+strconv.FormatInt(m.Version, 10))
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, "pod.json"))
}

func loadMeta(dir string) (*meta, error) {
	data, err := os.ReadFile(filepath.Join(dir, "pod.json"))
	if err != nil {
		return nil, err
	}
	m := &meta{}
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%s/pod.json: %w", dir, err)
	}
	return m, nil
}

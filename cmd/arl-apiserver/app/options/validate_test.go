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
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// parseFlags gives options from a command line, as arl-apiserver's
// command parses it: every section's flags in one set, in order (a name
// two sections define goes to the first).
func parseFlags(t *testing.T, args ...string) (*Options, error) {
	t.Helper()
	o := NewOptions(io.Discard)
	fs := pflag.NewFlagSet("arl-apiserver", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fss := o.Flags()
	for _, name := range fss.Order {
		fs.AddFlagSet(fss.FlagSets[name])
	}
	return o, fs.Parse(args)
}

// TestValidate: every bad flag is refused with a message naming it, and a
// command line with several is refused for each, not only the first.
func TestValidate(t *testing.T) {
	// The generic options need an etcd; the rest are the defaults.
	base := []string{"--etcd-servers=http://127.0.0.1:2379"}
	cases := []struct {
		name string
		args []string
		// want are substrings the error must hold, none when valid.
		want []string
	}{
		{name: "defaults"},
		{name: "every pool flag set sensibly", args: []string{
			"--local-sandbox-memory=512Mi", "--local-sandbox-cpu=500m", "--local-sandbox-pids=0",
			"--task-output-bytes=1", "--max-concurrent-tasks=1", "--task-ttl-deletes-per-second=0.5", "--shutdown-task-grace=30s", "--shutdown-delay-duration=5s",
			"--pool-egress-deny-cidrs=203.0.113.0/24,2001:db8::/32", "--server-pod-labels=app=arl,tier=api",
			"--privileged-pool-namespaces=ci,build-farm", "--pod-claims=labels",
		}},
		{name: "unknown pod claims", args: []string{"--pod-claims=pods"},
			want: []string{`--pod-claims must be "etcd" or "labels", not "pods"`}},
		{name: "manage certificates in standalone mode", args: []string{"--standalone", "--manage-certificates"},
			want: []string{"--manage-certificates is for a cluster"}},
		{name: "negative shutdown delay", args: []string{"--shutdown-delay-duration=-1s"},
			want: []string{"--shutdown-delay-duration must not be negative"}},
		{name: "negative sandbox memory", args: []string{"--local-sandbox-memory=-1Gi"},
			want: []string{"--local-sandbox-memory, --local-sandbox-cpu and --local-sandbox-pids must not be negative"}},
		{name: "negative sandbox cpu", args: []string{"--local-sandbox-cpu=-1"},
			want: []string{"must not be negative"}},
		{name: "negative sandbox pids", args: []string{"--local-sandbox-pids=-1"},
			want: []string{"must not be negative"}},
		{name: "no task output", args: []string{"--task-output-bytes=0"},
			want: []string{"--task-output-bytes must be positive"}},
		{name: "unknown Task events setting", args: []string{"--task-events=some"},
			want: []string{"--task-events must be all, failures or none"}},
		{name: "task output that would not fit etcd", args: []string{"--task-output-bytes=1048576"},
			want: []string{"--task-output-bytes must be positive and at most 196608"}},
		{name: "negative task grace", args: []string{"--shutdown-task-grace=-1s"},
			want: []string{"--shutdown-task-grace must not be negative"}},
		{name: "no concurrent tasks", args: []string{"--max-concurrent-tasks=0"},
			want: []string{"--max-concurrent-tasks must be positive"}},
		{name: "TTL deletes never paced through", args: []string{"--task-ttl-deletes-per-second=0"},
			want: []string{"--task-ttl-deletes-per-second must be positive"}},
		{name: "egress deny CIDR with host bits", args: []string{"--pool-egress-deny-cidrs=10.0.0.1/8"},
			want: []string{`--pool-egress-deny-cidrs "10.0.0.1/8"`}},
		// /0 would deny every address, which is what turning egress off is for.
		{name: "egress deny everything", args: []string{"--pool-egress-deny-cidrs=0.0.0.0/0"},
			want: []string{`--pool-egress-deny-cidrs "0.0.0.0/0"`}},
		{name: "egress deny an address, not a CIDR", args: []string{"--pool-egress-deny-cidrs=203.0.113.7"},
			want: []string{`--pool-egress-deny-cidrs "203.0.113.7"`}},
		{name: "server pod label key invalid", args: []string{"--server-pod-labels=bad key=arl"},
			want: []string{"--server-pod-labels bad key=arl:"}},
		{name: "server pod label value invalid", args: []string{"--server-pod-labels=app=-arl-"},
			want: []string{"--server-pod-labels app=-arl-:"}},
		{name: "privileged namespace invalid", args: []string{"--privileged-pool-namespaces=Build_Farm"},
			want: []string{`--privileged-pool-namespaces "Build_Farm"`}},
		{name: "generic options are validated too", args: []string{"--secure-port=-1"},
			want: []string{"--secure-port"}},
		{name: "every error is reported", args: []string{"--task-output-bytes=0", "--max-concurrent-tasks=0", "--shutdown-delay-duration=-1s"},
			want: []string{"--task-output-bytes", "--max-concurrent-tasks", "--shutdown-delay-duration"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := parseFlags(t, append(base, c.args...)...)
			if err != nil {
				t.Fatalf("parsing %v: %v", c.args, err)
			}
			err = o.Validate()
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("valid flags %v refused: %v", c.args, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("flags %v accepted, want an error with %q", c.args, c.want)
			}
			for _, want := range c.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

// TestValidateServerPodLabelsWithNetworkPolicies: the pools' NetworkPolicies
// admit only the server's pods, so with none selected no server could reach
// a sidecar; without NetworkPolicies the labels are not needed.
func TestValidateServerPodLabelsWithNetworkPolicies(t *testing.T) {
	for _, c := range []struct {
		policies bool
		wantErr  bool
	}{{policies: true, wantErr: true}, {policies: false}} {
		o, err := parseFlags(t)
		if err != nil {
			t.Fatal(err)
		}
		o.Pool.NetworkPolicies, o.Pool.ServerPodLabels = c.policies, nil
		errs := o.Pool.Validate()
		if got := len(errs) > 0; got != c.wantErr {
			t.Errorf("network policies %v, no server pod labels: errors %v, want an error %v", c.policies, errs, c.wantErr)
		}
		if c.wantErr && !strings.Contains(errs[0].Error(), "--server-pod-labels must select") {
			t.Errorf("unclear error: %v", errs[0])
		}
	}
}

// TestBadFlagValues: values that are not of the flag's kind fail parsing,
// naming the flag, and leave the default in place.
func TestBadFlagValues(t *testing.T) {
	for _, args := range [][]string{
		{"--local-sandbox-memory=lots"},
		{"--local-sandbox-cpu=1.5cores"},
		{"--max-concurrent-tasks=many"},
		{"--shutdown-task-grace=10"},
		{"--server-pod-labels=app"},
	} {
		o, err := parseFlags(t, args...)
		if err == nil {
			t.Errorf("%v parsed", args)
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(args[0], "--"), "=")
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%v: error %q does not name the flag", args, err)
		}
		if got := o.Pool.LocalMemory.String(); got != "2Gi" {
			t.Errorf("%v: a bad value changed --local-sandbox-memory to %s", args, got)
		}
	}
}

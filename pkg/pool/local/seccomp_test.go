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
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// TestSeccompFilter runs the assembled filter in x/net/bpf's interpreter
// over seccomp_data for syscalls it must refuse and ones it must allow.
func TestSeccompFilter(t *testing.T) {
	raw, err := seccompFilter()
	if err != nil {
		t.Fatal(err)
	}
	var prog []bpf.Instruction
	for _, r := range raw {
		prog = append(prog, r.Disassemble())
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	const (
		allow = unix.SECCOMP_RET_ALLOW
		eperm = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	)
	cases := []struct {
		name string
		arch uint32
		nr   uint32
		want uint32
	}{
		{"read", auditArch, unix.SYS_READ, allow},
		{"execve", auditArch, unix.SYS_EXECVE, allow},
		{"clone", auditArch, unix.SYS_CLONE, allow},
		{"mount", auditArch, unix.SYS_MOUNT, eperm},
		{"umount2", auditArch, unix.SYS_UMOUNT2, eperm},
		{"ptrace", auditArch, unix.SYS_PTRACE, eperm},
		{"keyctl", auditArch, unix.SYS_KEYCTL, eperm},
		{"init_module", auditArch, unix.SYS_INIT_MODULE, eperm},
		{"open_by_handle_at", auditArch, unix.SYS_OPEN_BY_HANDLE_AT, eperm},
		{"unshare", auditArch, unix.SYS_UNSHARE, eperm},
		{"last denied", auditArch, uint32(deniedSyscalls[len(deniedSyscalls)-1]), eperm},
		{"another ABI", auditArch ^ 1, unix.SYS_READ, eperm},
	}
	if x32SyscallBit != 0 {
		cases = append(cases, struct {
			name string
			arch uint32
			nr   uint32
			want uint32
		}{"x32 read", auditArch, x32SyscallBit | unix.SYS_READ, eperm})
	}
	for _, c := range cases {
		// struct seccomp_data. The interpreter loads words as packets are
		// read, big-endian; the kernel loads seccomp_data natively.
		data := make([]byte, 64)
		binary.BigEndian.PutUint32(data[seccompDataNr:], c.nr)
		binary.BigEndian.PutUint32(data[seccompDataArch:], c.arch)
		got, err := vm.Run(data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if uint32(got) != c.want {
			t.Errorf("%s (nr %d): filter returned %#x, want %#x", c.name, c.nr, got, c.want)
		}
	}
	if b, err := seccompBytes(); err != nil || len(b) != 8*len(raw) {
		t.Errorf("seccompBytes: %d bytes, %v; want %d", len(b), err, 8*len(raw))
	}
}

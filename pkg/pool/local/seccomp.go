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
	"fmt"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// deniedSyscalls are refused with EPERM inside local sandboxes. Without
// capabilities most of them fail anyway; the filter is the second wall,
// for the kernel bugs that capability checks do not stop. The choice
// follows container runtimes' default profiles: no (re)mounting, no
// namespace changes, no tracing or reading other processes' memory, no
// keyrings, no kernel modules or kexec, no file-handle opens (the
// "shocker" escape), no BPF, perf or userfaultfd, no io_uring, and none
// of the host-wide clock, swap, reboot, accounting and quota calls.
var deniedSyscalls = append([]uintptr{
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_CHROOT,
	unix.SYS_MOVE_MOUNT, unix.SYS_OPEN_TREE, unix.SYS_FSOPEN, unix.SYS_FSCONFIG,
	unix.SYS_FSMOUNT, unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR,
	unix.SYS_UNSHARE, unix.SYS_SETNS,
	unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD,
	unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT,
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
	unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_REBOOT, unix.SYS_SYSLOG, unix.SYS_ACCT,
	unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME, unix.SYS_CLOCK_ADJTIME, unix.SYS_ADJTIMEX,
	unix.SYS_QUOTACTL, unix.SYS_QUOTACTL_FD, unix.SYS_LOOKUP_DCOOKIE, unix.SYS_VHANGUP,
}, archDeniedSyscalls...)

// Offsets in struct seccomp_data.
const (
	seccompDataNr   = 0
	seccompDataArch = 4
)

// seccompFilter is the classic BPF program bubblewrap loads with
// --seccomp: syscalls of another ABI (32-bit entry points, x32) and the
// denied ones return EPERM, everything else is allowed.
func seccompFilter() ([]bpf.RawInstruction, error) {
	deny := bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)}
	allow := bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW}
	// Every check jumps forward to deny, the last instruction.
	checks := []bpf.Instruction{
		bpf.LoadAbsolute{Off: seccompDataArch, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: auditArch},
		bpf.LoadAbsolute{Off: seccompDataNr, Size: 4},
	}
	if x32SyscallBit != 0 {
		checks = append(checks, bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: x32SyscallBit})
	}
	for _, nr := range deniedSyscalls {
		checks = append(checks, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr)})
	}
	prog := make([]bpf.Instruction, 0, len(checks)+2)
	for i, ins := range checks {
		if jump, ok := ins.(bpf.JumpIf); ok {
			// Past the checks that follow and the allow.
			skip := len(checks) - 1 - i + 1
			if skip > 255 {
				return nil, fmt.Errorf("seccomp filter too long for a BPF jump")
			}
			jump.SkipTrue = uint8(skip)
			ins = jump
		}
		prog = append(prog, ins)
	}
	prog = append(prog, allow, deny)
	return bpf.Assemble(prog)
}

// seccompBytes is the filter as bubblewrap reads it from its --seccomp fd:
// an array of struct sock_filter in the machine's byte order.
func seccompBytes() ([]byte, error) {
	raw, err := seccompFilter()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 8*len(raw))
	for _, ins := range raw {
		out = binary.NativeEndian.AppendUint16(out, ins.Op)
		out = append(out, ins.Jt, ins.Jf)
		out = binary.NativeEndian.AppendUint32(out, ins.K)
	}
	return out, nil
}

"""A hostile probe, run inside a local sandbox by the security suite.

Every attack tries to get out of the sandbox the way untrusted code would:
raw syscalls through ctypes (no helper binaries), the host's paths, other
processes and sockets. It prints one JSON object: for each attack, whether
it got through ("escaped") and what happened. The controls must succeed:
they show the probe itself works, so a blocked attack is the sandbox's doing.

Usage: python3 probe.py JSON-ARGS   (data_dir, host_target_dir, other_socket, server_port)
"""
import ctypes
import errno
import json
import os
import socket
import sys

args = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
results = {}


def record(name, escaped, detail):
    results[name] = {"escaped": bool(escaped), "detail": str(detail)}


def syscall(name, *argv):
    """A raw syscall by libc's wrapper; returns (ok, errno name)."""
    fn = getattr(libc, name)
    ctypes.set_errno(0)
    rc = fn(*argv)
    return outcome(rc)


def outcome(rc):
    """(succeeded, what happened) of a libc call's return value."""
    if rc != -1:
        return True, "succeeded (returned %d)" % rc
    err = ctypes.get_errno()
    return False, errno.errorcode.get(err, str(err))


def status_fields():
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return fields


# Controls: the probe can write its workspace and read a host file.
with open("/workspace/probe-control", "w") as f:
    f.write("ok")
record("control_workspace_write", True, "wrote /workspace/probe-control")
with open("/etc/hostname") as f:
    record("control_host_read", True, "read /etc/hostname: " + f.read().strip())

# Capabilities, no-new-privileges, seccomp.
st = status_fields()
caps = {k: st.get(k) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}
record("capabilities", any(int(v, 16) != 0 for v in caps.values()), caps)
record("new_privileges", st.get("NoNewPrivs") != "1", "NoNewPrivs=" + str(st.get("NoNewPrivs")))
record("no_seccomp", st.get("Seccomp") != "2", "Seccomp=" + str(st.get("Seccomp")))

# Remount the read-only host filesystem read-write, then write on the host.
MS_RDONLY, MS_REMOUNT, MS_BIND = 1, 32, 4096
target = args["host_target_dir"]
for path in ("/usr", target, "/"):
    ok, err = syscall("mount", None, path.encode(), None, ctypes.c_ulong(MS_REMOUNT | MS_BIND), None)
    record("remount_rw " + path, ok, err)
try:
    with open(os.path.join(target, "escaped-by-remount"), "w") as f:
        f.write("escaped")
    record("host_write", True, "wrote into " + target)
except OSError as e:
    record("host_write", False, e)

# New mounts, and unmounting what hides the server's data directory.
ok, err = syscall("mount", b"tmpfs", b"/mnt", b"tmpfs", ctypes.c_ulong(0), None)
record("mount_tmpfs", ok, err)
ok, err = syscall("umount2", args["data_dir"].encode(), 2)  # MNT_DETACH
record("umount_data_dir_cover", ok, err)

# The server's data directory: keys, etcd, other sandboxes.
data_dir = args["data_dir"]
try:
    entries = os.listdir(data_dir)
    record("data_dir_listing", len(entries) > 0, entries)
except OSError as e:
    record("data_dir_listing", False, e)
for rel in ("pki/ca.key", "pki/serving.key", "pki/admin.key", "kubeconfig"):
    try:
        with open(os.path.join(data_dir, rel), "rb") as f:
            record("read " + rel, True, "read %d bytes" % len(f.read()))
    except OSError as e:
        record("read " + rel, False, e)
try:
    with open(os.path.join(data_dir, "planted"), "w") as f:
        f.write("planted")
    record("data_dir_write", True, "wrote " + data_dir + "/planted")
except OSError as e:
    record("data_dir_write", False, e)

# Another sandbox's agent socket, by its host path and through /proc.
def try_connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        return True, "connected"
    except OSError as e:
        return False, e
    finally:
        s.close()

ok, detail = try_connect(args["other_socket"])
record("other_sandbox_socket", ok, detail)
reached = []
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    path = "/proc/%s/root%s" % (pid, args["other_socket"])
    if try_connect(path)[0]:
        reached.append(path)
record("other_sandbox_socket_via_proc", reached, reached)

# Other processes: the host's and other sandboxes' must not be visible.
foreign = []
for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    if "arl-apiserver" in cmd or "bwrap" in cmd or "etcd" in cmd:
        foreign.append(cmd)
record("foreign_processes_visible", foreign, foreign)

# Syscalls the seccomp filter refuses (and capabilities would stop anyway).
CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
ok, err = syscall("unshare", CLONE_NEWUSER)
record("unshare_user_namespace", ok, err)
ok, err = syscall("unshare", CLONE_NEWNS)
record("unshare_mount_namespace", ok, err)
PTRACE_ATTACH = 16
ok, err = syscall("ptrace", PTRACE_ATTACH, 1, None, None)
record("ptrace_pid1", ok, err)
libc.syscall.restype = ctypes.c_long
SYS = {"x86_64": {"keyctl": 250, "add_key": 248, "open_by_handle_at": 304, "init_module": 175, "bpf": 321,
                  "setns": 308, "kexec_load": 246},
       "aarch64": {"keyctl": 219, "add_key": 217, "open_by_handle_at": 265, "init_module": 105, "bpf": 280,
                   "setns": 268, "kexec_load": 104}}[os.uname().machine]
SYS["getpid"] = {"x86_64": 39, "aarch64": 172}[os.uname().machine]
record("control_raw_syscall", libc.syscall(ctypes.c_long(SYS["getpid"])) == os.getpid(), "getpid by number")
KEYCTL_JOIN_SESSION_KEYRING = 1
for name, argv in (("keyctl", (KEYCTL_JOIN_SESSION_KEYRING, 0)), ("add_key", (b"user", b"k", b"v", 1, -3)),
                   ("open_by_handle_at", (-100, ctypes.create_string_buffer(128), 0)),
                   ("init_module", (None, 0, b"")), ("bpf", (0, None, 0)), ("setns", (-1, 0)),
                   ("kexec_load", (0, 0, None, 0))):
    ctypes.set_errno(0)
    # EPERM is the filter's answer; anything but success is a refusal.
    record("syscall " + name, *outcome(libc.syscall(ctypes.c_long(SYS[name]), *argv)))

# The network: only loopback, and not the host's.
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(2)
try:
    s.connect(("127.0.0.1", int(args["server_port"])))
    record("reach_api_server", True, "connected to 127.0.0.1:%s" % args["server_port"])
except OSError as e:
    record("reach_api_server", False, e)
finally:
    s.close()

print(json.dumps(results))

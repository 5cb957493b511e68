#!/usr/bin/env python3
"""Reusing one sandbox: Tasks share its /workspace, and a kept sandbox can be
picked up again later.

With ``keep_alive=True`` leaving the ``with`` block keeps the sandbox;
``SandboxSession.attach(name)`` opens a session on it again (say, in the next
step of an agent loop), and ``delete()`` frees it.

    python3 examples/python/07_sandbox_reuse.py

Prints:
    task-1: counter = 1
    task-2: counter = 2
    task-3: counter = 3
    kept: python-pool-sbx-...
    attached again: counter = 3
    deleted
"""

from _bootstrap import NAMESPACE, POOL

from arl import SandboxSession

INCREMENT = """\
import pathlib
p = pathlib.Path("/workspace/counter")
n = int(p.read_text()) + 1 if p.exists() else 1
p.write_text(str(n))
print(f"counter = {n}")
"""

with SandboxSession(POOL, namespace=NAMESPACE, keep_alive=True) as session:
    session.write_file("/workspace/increment.py", INCREMENT)
    for i in range(1, 4):
        result = session.execute([{"name": f"task-{i}", "type": "Command", "command": ["python", "/workspace/increment.py"]}])
        print(f"task-{i}: {result['status']['stdout']}", end="")
    name = session.name
print(f"kept: {name}")

with SandboxSession.attach(name, namespace=NAMESPACE) as session:
    print(f"attached again: counter = {session.read_file('/workspace/counter')}")
    session.delete()
print("deleted")

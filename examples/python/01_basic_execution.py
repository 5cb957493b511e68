#!/usr/bin/env python3
"""Basic execution: the manual's Python SDK quick example.

A session takes a sandbox from the pool, one Task writes a script and runs
it, and leaving the ``with`` block gives the sandbox back.

    python3 examples/python/01_basic_execution.py

Prints:
    Sandbox: python-pool-sbx-... (pod python-pool-...)
    Output: Hello from ARL!
    Task executed successfully

    Exit code: 0
"""

from _bootstrap import NAMESPACE, POOL

from arl_client.session import SandboxSession  # the manual also writes: from arl import SandboxSession

with SandboxSession(POOL, namespace=NAMESPACE) as session:
    print(f"Sandbox: {session.name} (pod {session.pod_name})")
    result = session.execute([
        {
            "name": "write_script",
            "type": "FilePatch",
            "path": "/workspace/hello.py",
            "content": "print('Hello from ARL!')\nprint('Task executed successfully')\n",
        },
        {
            "name": "run_script",
            "type": "Command",
            "command": ["python", "/workspace/hello.py"],
        },
    ])

    print(f"Output: {result['status']['stdout']}")
    print(f"Exit code: {result['status']['exitCode']}")

#!/usr/bin/env python3
"""A multi-step pipeline in one Task: the manual's data-processing example.

Steps run in order and stop at the first failure: write the data, write the
program, run it in /workspace, clean up. Each step's result is in
``status.steps``.

(The manual's other pipeline runs ``pip install requests`` and fetches
api.github.com; it needs a sandbox with network access, which a standalone
``make run`` sandbox does not have: its network is loopback only.)

    python3 examples/python/02_multi_step_pipeline.py

Prints:
    Processed 2 users
      - Alice
      - Bob
    step create-data: exit 0
    step process-data: exit 0
    step run-process: exit 0
    step cleanup: exit 0
    State: Succeeded
"""

from _bootstrap import NAMESPACE, POOL

from arl import SandboxSession

PROCESS = """\
import json
with open('data.json') as f:
    data = json.load(f)
print(f"Processed {len(data['users'])} users")
for user in data['users']:
    print(f"  - {user['name']}")
"""

with SandboxSession(POOL, namespace=NAMESPACE) as session:
    result = session.execute([
        {"name": "create-data", "type": "FilePatch", "path": "/workspace/data.json",
         "content": '{"users": [{"id": 1, "name": "Alice"}, {"id": 2, "name": "Bob"}]}\n'},
        {"name": "process-data", "type": "FilePatch", "path": "/workspace/process.py", "content": PROCESS},
        {"name": "run-process", "type": "Command", "command": ["python", "process.py"], "workDir": "/workspace"},
        {"name": "cleanup", "type": "Command", "command": ["rm", "-f", "process.py"], "workDir": "/workspace"},
    ], timeout="120s")

    print(result["status"]["stdout"], end="")
    for step in result["status"]["steps"]:
        print(f"step {step['name']}: exit {step['exitCode']}")
    print(f"State: {result['status']['state']}")

#!/usr/bin/env python3
"""Working directories: ``workDir`` sets where a Command runs.

    python3 examples/python/04_working_directory.py

Prints:
    /workspace/project
    Running from /workspace/project: src/main.py
    written relative to the working directory
"""

from _bootstrap import NAMESPACE, POOL

from arl import SandboxSession

MAIN = """\
import os
print(f"Running from {os.getcwd()}: src/main.py")
open("data.txt", "w").write("written relative to the working directory\\n")
"""

with SandboxSession(POOL, namespace=NAMESPACE) as session:
    result = session.execute([
        {"name": "mkdir", "type": "Command", "command": ["mkdir", "-p", "/workspace/project/src"]},
        {"name": "write-main", "type": "FilePatch", "path": "/workspace/project/src/main.py", "content": MAIN},
        {"name": "pwd", "type": "Command", "command": ["pwd"], "workDir": "/workspace/project"},
        {"name": "run", "type": "Command", "command": ["python", "src/main.py"], "workDir": "/workspace/project"},
        {"name": "read", "type": "Command", "command": ["cat", "data.txt"], "workDir": "/workspace/project"},
    ])
    print(result["status"]["stdout"], end="")

#!/usr/bin/env python3
"""Environment variables for a Command step: the manual's env-task.

    python3 examples/python/03_environment_variables.py

Prints:
    Environment: production
    Version: 1.0.0
"""

from _bootstrap import NAMESPACE, POOL

from arl import SandboxSession

APP = """\
import os
print(f"Environment: {os.getenv('APP_ENV')}")
print(f"Version: {os.getenv('VERSION')}")
"""

with SandboxSession(POOL, namespace=NAMESPACE) as session:
    result = session.execute([
        {"name": "write-app", "type": "FilePatch", "path": "/workspace/app.py", "content": APP},
        {"name": "run-with-env", "type": "Command", "command": ["python", "app.py"], "workDir": "/workspace",
         "env": {"APP_ENV": "production", "VERSION": "1.0.0"}},
    ], timeout="30s")
    print(result["status"]["stdout"], end="")

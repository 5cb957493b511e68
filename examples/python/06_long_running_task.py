#!/usr/bin/env python3
"""A long-running Task: output as it is produced, and the finished result.

``session.stream`` starts the Task and yields its output while it runs
(``tasks/{name}/log?follow=true``); after the loop, ``stream.result`` is the
finished Task. ``execute`` would wait just the same, in one HTTP call, for as
long as the Task takes: there is no server deadline. ``timeout`` bounds the
Task itself.

    python3 examples/python/06_long_running_task.py [SECONDS]   (default 5)

Prints (one line per second, as the script prints them):
    step 1/5
    ...
    step 5/5
    finished
    State: Succeeded, exit code 0, lines: 6
"""

import sys

from _bootstrap import NAMESPACE, POOL

from arl import SandboxSession

seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5

SLOW = f"""\
import time
for i in range({seconds}):
    time.sleep(1)
    print(f"step {{i + 1}}/{seconds}", flush=True)
print("finished")
"""

with SandboxSession(POOL, namespace=NAMESPACE, timeout=60) as session:
    session.write_file("/workspace/slow.py", SLOW)
    stream = session.stream([{"name": "slow", "type": "Command", "command": ["python", "/workspace/slow.py"]}],
                            timeout=f"{seconds + 60}s")
    for text in stream:
        print(text, end="", flush=True)
    status = stream.result["status"]
    print(f"State: {status['state']}, exit code {status['exitCode']}, lines: {len(status['stdout'].splitlines())}")

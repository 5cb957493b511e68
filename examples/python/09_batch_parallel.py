#!/usr/bin/env python3
"""Batch execution: many sessions in parallel, each with its own sandbox.

The manual's ThreadPoolExecutor example (5 tasks, 3 at a time). With
``--async`` the same batch runs on asyncio with ``AsyncSandboxSession``.
Sessions share one Kubernetes client and its connections; the pool grows to
serve sandboxes beyond its idle pods.

    python3 examples/python/09_batch_parallel.py [--async] [COUNT]   (default 5)

Prints:
    task 0 done
    task 1 done
    task 2 done
    task 3 done
    task 4 done
    5 tasks, 5 sandboxes
"""

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor

from _bootstrap import NAMESPACE, POOL

from arl import AsyncSandboxSession
from arl_client.session import SandboxSession


def steps(task_id):
    return [
        {"name": "write", "type": "FilePatch", "path": f"/workspace/task_{task_id}.py",
         "content": f"print('task {task_id} done')"},
        {"name": "run", "type": "Command", "command": ["python", f"/workspace/task_{task_id}.py"]},
    ]


def execute_task(task_id):
    with SandboxSession(POOL, namespace=NAMESPACE) as session:
        return session.name, session.execute(steps(task_id))


async def execute_task_async(task_id):
    async with AsyncSandboxSession(POOL, namespace=NAMESPACE) as session:
        return session.name, await session.execute(steps(task_id))


async def run_async(count):
    return await asyncio.gather(*(execute_task_async(i) for i in range(count)))


args = [a for a in sys.argv[1:] if a != "--async"]
count = int(args[0]) if args else 5
if "--async" in sys.argv:
    results = asyncio.run(run_async(count))
else:
    with ThreadPoolExecutor(max_workers=3) as executor:
        futures = [executor.submit(execute_task, i) for i in range(count)]
        results = [f.result() for f in futures]

for _, result in results:
    print(result["status"]["stdout"], end="")
print(f"{len(results)} tasks, {len({name for name, _ in results})} sandboxes")

#!/usr/bin/env python3
"""Error handling, as the manual's SDK section writes it.

- A command that exits non-zero is a result: ``result['status']['state']``
  is ``Failed`` and ``stderr`` says why (exit 127: command not found,
  1: program error, 2: bad arguments).
- A Task that runs past its ``timeout`` raises ``TimeoutError``.
- A Task that cannot run (here: its sandbox was deleted) raises
  ``RuntimeError`` with the server's message.
- Invalid steps raise ``arl.InvalidError`` (a Kubernetes ``ApiException``
  and a ``ValueError``) naming the field.
- ``retries`` re-runs a failed Task; ``attempts`` counts the runs.

    python3 examples/python/05_error_handling.py

Prints:
    == a failing program
    Task failed: something went wrong
    Exit code: 1
    == a missing command
    Task failed (exit 127)
    == too slow for its timeout
    Task timed out
    == an invalid step
    Invalid task: spec.steps[0].command: Required value ...
    == a flaky step with retries
    Succeeded after 2 attempts
    == a sandbox deleted under the session
    Execution error: task ...: SandboxNotFound: Sandbox "..." does not exist in namespace "..."
"""

from _bootstrap import NAMESPACE, POOL

from arl import ArlClient, InvalidError, SandboxSession


def attempt(session, title, steps, **options):
    """One Task, handled the way the manual shows."""
    print(f"== {title}")
    try:
        result = session.execute(steps=steps, **options)
        if result['status']['state'] == 'Failed':
            if result['status']['exitCode'] == 127:
                print("Task failed (exit 127)")
            else:
                print(f"Task failed: {result['status']['stderr']}", end="")
                print(f"Exit code: {result['status']['exitCode']}")
        else:
            attempts = result['status']['attempts']
            print(f"Succeeded after {attempts} attempt{'s' if attempts > 1 else ''}")
    except TimeoutError:
        print("Task timed out")
    except InvalidError as e:
        print(f"Invalid task: {', '.join(f'{c.field}: {c.message}' for c in e.causes)}")
    except RuntimeError as e:
        print(f"Execution error: {e}")


def command(*argv):
    return {"name": "run", "type": "Command", "command": list(argv)}


with SandboxSession(POOL, namespace=NAMESPACE) as session:
    attempt(session, "a failing program",
            [command("python", "-c", "import sys; sys.exit('something went wrong')")])
    attempt(session, "a missing command", [command("no-such-command")])
    attempt(session, "too slow for its timeout", [command("sleep", "30")], timeout="2s")
    attempt(session, "an invalid step", [command()])
    flaky = "test -f /workspace/tried || { touch /workspace/tried; exit 1; }"
    attempt(session, "a flaky step with retries", [command("sh", "-c", flaky)], retries=3)

with SandboxSession(POOL, namespace=NAMESPACE) as session:
    ArlClient().delete(NAMESPACE, "sandboxes", session.name)  # as `kubectl delete sandbox` would
    attempt(session, "a sandbox deleted under the session", [command("true")])

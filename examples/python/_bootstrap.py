"""Makes ``python3 examples/python/NN_*.py`` run from a checkout of ARL.

Imported first by every example, it does two visible things:

- The SDK needs the ``kubernetes`` package. When the ``python3`` that runs an
  example lacks it (on this project's machines ``python3`` is a pyenv Python;
  Debian's python3-kubernetes lives in /usr/bin/python3), the example runs
  itself again under /usr/bin/python3 if that one has it, and says so on
  stderr. Otherwise it stops and says what to install.
- When the ``arl`` package is not installed (``pip install -e sdk/python``),
  the checkout's ``sdk/python`` is put on ``sys.path``.

It also reads where the examples run: ``ARL_NAMESPACE`` (default
``default``) and ``ARL_POOL`` (default ``python-pool``, the manual's pool:
``kubectl apply -f artifacts/examples/warmpool.yaml``).
"""

import importlib.util
import os
import sys
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"
_REEXEC = "ARL_EXAMPLE_REEXEC"

if importlib.util.find_spec("kubernetes") is None:
    if os.environ.get(_REEXEC) != "1" and os.access(SYSTEM_PYTHON, os.X_OK):
        print(f"[examples] {sys.executable} has no 'kubernetes' package; running again under {SYSTEM_PYTHON}",
              file=sys.stderr, flush=True)
        os.environ[_REEXEC] = "1"
        os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, *sys.argv])
    sys.exit(f"{sys.executable} has no 'kubernetes' package, which the ARL SDK needs: "
             "apt-get install python3-kubernetes (and run /usr/bin/python3), or pip install kubernetes")

if importlib.util.find_spec("arl") is None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sdk" / "python"))

NAMESPACE = os.environ.get("ARL_NAMESPACE", "default")
POOL = os.environ.get("ARL_POOL", "python-pool")

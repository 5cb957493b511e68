"""``from arl_client.session import SandboxSession``, as the manual writes it."""

from arl.aio import AsyncSandboxSession  # noqa: F401
from arl.session import SandboxSession  # noqa: F401

__all__ = ["SandboxSession", "AsyncSandboxSession"]

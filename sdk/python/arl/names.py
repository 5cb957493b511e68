"""Names for the objects a session creates.

Names come from the client, not from ``metadata.generateName``: a client that
lost a create's answer can then look the object up (and ``tasks/{name}/exec``
needs the name in its URL anyway). 40 random bits per Sandbox name make a
collision among 48 sessions started in the same millisecond about a one in
10^9 event; a collision still fails cleanly (409) and the session retries
with a fresh name.
"""

import re
import secrets

#: Sandbox (and WarmPool) names are DNS-1123 labels.
MAX_LABEL = 63

_INVALID = re.compile(r"[^a-z0-9-]+")


def _label(prefix: str, suffix: str) -> str:
    prefix = _INVALID.sub("-", prefix.lower()).strip("-")
    room = MAX_LABEL - len(suffix) - 1
    prefix = prefix[:room].rstrip("-") or "x"
    return f"{prefix}-{suffix}"


def sandbox_name(pool_ref: str) -> str:
    """``<pool>-sbx-<10 hex>``: unique, a DNS-1123 label, says which pool,
    and does not look like the name of one of the pool's pods."""
    return _label(pool_ref, "sbx-" + secrets.token_hex(5))


def task_name(sandbox: str, seq: int) -> str:
    """``<sandbox>-<seq>-<6 hex>``: Tasks outlive their Sandbox, and a later
    Sandbox may get the same name, so the sequence alone is not enough."""
    return f"{sandbox}-{seq}-{secrets.token_hex(3)}"

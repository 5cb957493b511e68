"""The import path the manual also writes (``from arl_client.session import
SandboxSession``): the same objects as ``arl``."""

from arl import *  # noqa: F401,F403
from arl import __all__, __version__  # noqa: F401

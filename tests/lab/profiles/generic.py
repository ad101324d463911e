"""generic: the cheapest host (only sshd, default config, nothing written into its root) for scale
runs (``Lab(extra=N)``).  Same truth table as ``minimal``."""

from __future__ import annotations

from pathlib import Path

from . import common as c
from .minimal import DAEMONS, EXPECTED, INIT, REASONS

NAME = "generic"
__all__ = ["DAEMONS", "EXPECTED", "INIT", "NAME", "REASONS", "configure"]


def configure(root: Path, ctx: c.HostContext) -> None:
    """Nothing at all: hundreds of these share the base untouched."""

"""generic: the cheapest host (only sshd, default config) for scale runs
(``Lab(extra=N)``).  Same truth table as ``minimal``."""

from __future__ import annotations

from .minimal import DAEMONS, EXPECTED, INIT, REASONS, configure

NAME = "generic"
__all__ = ["DAEMONS", "EXPECTED", "INIT", "NAME", "REASONS", "configure"]

"""Lab host profiles: one module per profile, each with NAME, DAEMONS, INIT,
EXPECTED, REASONS, SUDO (optional, default True) and ``configure(root, ctx)``."""

from __future__ import annotations

import importlib
from types import ModuleType

from .common import PLAN_TASKS

__all__ = ["ALL_PROFILES", "CLOCK_PROFILES", "CRON_PROFILES", "LAB_PROFILES", "NETWORK_PROFILES", "PLAN_TASKS", "get"]

# One host of each of these makes the standard lab (the pytest fixture's hosts).
LAB_PROFILES = ("compliant", "noncompliant", "tricky", "minimal", "logserver", "nosudo")
# The network lab of tests/lab/test_network.py (with a logserver): started by that module only,
# so the session lab stays small and fast.
NETWORK_PROFILES = ("portal", "portalbad", "mailtls", "mailplain", "fileserver", "insecure")
# Hosts whose clock is off (tests/lab/test_clock_skew.py): started by that module only.
CLOCK_PROFILES = ("clockbehind", "clockahead")
CRON_PROFILES = ("cronsay_fail", "cronsay_pass")
ALL_PROFILES = (*LAB_PROFILES, "generic", *NETWORK_PROFILES, *CLOCK_PROFILES, *CRON_PROFILES)


def get(name: str) -> ModuleType:
    if name not in ALL_PROFILES:
        raise KeyError(f"unknown lab profile {name!r}; known: {', '.join(ALL_PROFILES)}")
    return importlib.import_module(f"{__name__}.{name}")

"""Lab host profiles: one module per profile, each with NAME, DAEMONS, INIT,
EXPECTED, REASONS, SUDO (optional, default True) and ``configure(root, ctx)``."""

from __future__ import annotations

import importlib
from types import ModuleType

from .common import PLAN_TASKS

__all__ = [
    "ACCOUNT_PROFILES",
    "AIDE_PROFILES",
    "ALL_PROFILES",
    "AV_PROFILES",
    "CLOCK_PROFILES",
    "CRON_PROFILES",
    "DRILL_PROFILES",
    "FIREWALL_PROFILES",
    "KERNEL_PROFILES",
    "LAB_PROFILES",
    "LOGKEEP_PROFILES",
    "LOGREAD_PROFILES",
    "NETWORK_PROFILES",
    "PLAN_TASKS",
    "SCHEDULE_PROFILES",
    "UPDTIME_PROFILES",
    "USBGUARD_PROFILES",
    "get",
]

# One host of each of these makes the standard lab (the pytest fixture's hosts).
LAB_PROFILES = ("compliant", "noncompliant", "tricky", "minimal", "logserver", "nosudo")
# The network lab of tests/lab/test_network.py (with a logserver): started by that module only,
# so the session lab stays small and fast.
NETWORK_PROFILES = ("portal", "portalbad", "mailtls", "mailplain", "fileserver", "insecure")
# Hosts whose clock is off (tests/lab/test_clock_skew.py): started by that module only.
CLOCK_PROFILES = ("clockbehind", "clockahead")
# Updates and time synchronisation as the programs read them (tests/lab/test_updates_time.py), with a
# logserver as their NTP server: started by that module only.
UPDTIME_PROFILES = ("updtimeon", "updtimeoff")
# Hosts where the files say one verdict and the logging programs (rsyslogd, sudo) the other
# (tests/lab/test_logging_programs.py): started by that module only.
LOGREAD_PROFILES = ("logread_pass", "logread_fail")
# Kernel, pam_limits and modprobe settings files and programs read apart (tests/lab/test_kernel_settings.py).
KERNEL_PROFILES = ("kernfalsepass", "kernfalsefail")
# A line-by-line reading of the files and the programs' own disagree, both ways (acctdbuid0: a UID 0
# account served by libnss-db, not in /etc/passwd) (tests/lab/test_account_checks.py): that module only.
ACCOUNT_PROFILES = ("acctfilebad", "acctfilegood", "acctdbuid0")
# Anti-virus hosts whose files and ClamAV's own reading disagree (tests/lab/test_av.py): that module only.
AV_PROFILES = ("avloadedold", "avloadedfresh", "avnoclamd")
# A loaded firewall that reads closed but accepts everything, and one that reads open but drops
# (tests/lab/test_firewall_semantics.py): started by that module only.
FIREWALL_PROFILES = ("fwdisguised", "fwlayered")
CRON_PROFILES = ("cronsay_fail", "cronsay_pass")
# Hosts where the files say one verdict and logrotate's own reading / the audit rules augenrules loads the
# other (tests/lab/test_retention_audit.py): started by that module only.
LOGKEEP_PROFILES = ("logkeep_pass", "logkeep_fail")
# The database AIDE reads and the fixed list of paths disagree, both ways (tests/lab/test_aide.py).
AIDE_PROFILES = ("aidesay_fail", "aidesay_pass")
# The running USBGuard daemon's policy and its configuration file disagree, both ways (tests/lab/test_usbguard.py).
USBGUARD_PROFILES = ("usbguardsay_pass", "usbguardsay_fail")
# A host whose cron runs the schedules the auditor installs, and a mail server for drift notices
# (tests/lab/test_schedule_notify.py): started by that module only.
SCHEDULE_PROFILES = ("schedrunner", "mailtls")
# A host where every drill scenario passes and one where each fails, with a log server (tests/lab/test_drill.py):
# that module only.
DRILL_PROFILES = ("drillstrong", "drillweak")
ALL_PROFILES = (
    *LAB_PROFILES,
    "generic",
    *NETWORK_PROFILES,
    *CLOCK_PROFILES,
    *UPDTIME_PROFILES,
    *LOGREAD_PROFILES,
    *KERNEL_PROFILES,
    *ACCOUNT_PROFILES,
    *AV_PROFILES,
    *FIREWALL_PROFILES,
    *CRON_PROFILES,
    *LOGKEEP_PROFILES,
    *AIDE_PROFILES,
    *USBGUARD_PROFILES,
    "schedrunner",
    *DRILL_PROFILES,
)


def get(name: str) -> ModuleType:
    if name not in ALL_PROFILES:
        raise KeyError(f"unknown lab profile {name!r}; known: {', '.join(ALL_PROFILES)}")
    return importlib.import_module(f"{__name__}.{name}")

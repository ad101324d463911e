"""Fact types. Adding one = one new module here + one line in the import list below."""

from auditor.facts import (  # noqa: F401  (each import registers its fact types)
    accounts,
    aide,
    apt_pending,
    apt_periodic,
    audit_rules,
    clamav,
    command,
    config_grep,
    cron_jobs,
    files,
    firewall,
    host_clock,
    kernel_module,
    logrotate,
    package,
    pam_limits,
    pam_lockout,
    process,
    sshd,
    sudo,
    sysctl,
    syslog,
    time_sync,
    win_accounts,
    win_admins,
    win_antivirus,
    win_bitlocker,
    win_eventlog,
    win_firewall,
    win_hotfix,
    win_usb,
)
from auditor.facts.base import REGISTRY, FactType, FactUnreadable, RawOutput

__all__ = ["REGISTRY", "FactType", "FactUnreadable", "RawOutput"]

"""updtimeon: automatic updates and time synchronisation are ON as the programs read them, though a
line-by-line reading of the files says off (tests/lab/test_updates_time.py; not in the session lab).

- apt: /etc/apt/apt.conf.d/10periodic says ``APT::Periodic::Unattended-Upgrade "0"``, the later
  20auto-upgrades says "1": the last value wins (``apt-config dump``: "1"); cron runs apt-compat.
- chrony: the server line is in a file chrony.conf ``include``s (/etc/chrony/agency/ntp.conf), not in
  the usual conf.d/sources.d; chronyd selects that server (the lab's log server, which serves NTP).
- no security update pending (the local security archive offers the installed version only).

Otherwise the bare ``minimal`` host: the six plan tasks fail as there.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import minimal

NAME = "updtimeon"
DAEMONS = ("sshd", "chronyd", "cron")
INIT = (c.CHRONY_RUNDIR,)
EXPECTED = dict(minimal.EXPECTED)
REASONS = dict(minimal.REASONS)
# LNX-* checks of this group: verdict the programs' reading gives / the files' line-by-line reading gave
CHECKS = {
    "LNX-UNATTENDED-UPGRADES": ("pass", "fail"),
    "LNX-SECURITY-UPDATES-APPLIED": ("pass", "pass"),
    "LNX-TIME-SYNC": ("pass", "fail"),
}
NTP_INCLUDE = "/etc/chrony/agency/ntp.conf"


def configure(root: Path, ctx: c.HostContext) -> None:
    minimal.configure(root, ctx)
    c.write(root, "/etc/apt/apt.conf.d/10periodic", 'APT::Periodic::Unattended-Upgrade "0";\n')
    c.write(
        root,
        "/etc/apt/apt.conf.d/20auto-upgrades",
        'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
    )
    c.apt_security_repo(root, upgrade=False)
    c.write(root, "/etc/chrony/chrony.conf", f"include {NTP_INCLUDE}\ndriftfile /var/lib/chrony/chrony.drift\n")
    c.write(root, NTP_INCLUDE, c.chrony_client_line(ctx.log_server))

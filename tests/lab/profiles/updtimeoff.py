"""updtimeoff: automatic updates and time synchronisation are OFF as the programs read them, though a
line-by-line reading of the files says on (tests/lab/test_updates_time.py; not in the session lab).

- apt: 20auto-upgrades says ``APT::Periodic::Unattended-Upgrade "1"``; the later 99local sets it to
  "0" in apt's block syntax (``APT::Periodic { Unattended-Upgrade "0"; };``), which no grep for the
  flat key sees: ``apt-config dump`` says "0".
- the pending security update (a newer ``hostname`` in the local security archive) is held
  (``apt-mark hold``): ``apt-get -s dist-upgrade`` leaves it out, yet it is not installed.
- chrony runs, and /etc/chrony/sources.d/agency.sources names a server, but this chrony.conf has no
  ``sourcedir`` (chronyd never reads that file): it serves its own clock ("local stratum 8") and is
  synchronised to no server.

Otherwise the bare ``minimal`` host: the six plan tasks fail as there.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from . import common as c
from . import minimal

NAME = "updtimeoff"
DAEMONS = ("sshd", "chronyd", "cron")
INIT = (c.CHRONY_RUNDIR,)
EXPECTED = dict(minimal.EXPECTED)
REASONS = dict(minimal.REASONS)
# LNX-* checks of this group: verdict the programs' reading gives / the files' line-by-line reading gave
CHECKS = {
    "LNX-UNATTENDED-UPGRADES": ("fail", "pass"),
    "LNX-SECURITY-UPDATES-APPLIED": ("fail", "pass"),
    "LNX-TIME-SYNC": ("fail", "pass"),
}


def configure(root: Path, ctx: c.HostContext) -> None:
    minimal.configure(root, ctx)
    c.write(
        root,
        "/etc/apt/apt.conf.d/20auto-upgrades",
        'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
    )
    c.write(root, "/etc/apt/apt.conf.d/99local", 'APT::Periodic {\n  Unattended-Upgrade "0";\n};\n')
    c.apt_security_repo(root, upgrade=True)
    subprocess.run(["chroot", str(root), "apt-mark", "hold", c.APT_REPO_PACKAGE], check=True, capture_output=True)
    c.write(root, "/etc/chrony/chrony.conf", c.CHRONY_LAB_SERVER)
    c.write(root, "/etc/chrony/sources.d/agency.sources", c.chrony_client_line(ctx.log_server))

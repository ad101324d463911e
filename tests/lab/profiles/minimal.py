"""minimal: a bare server: only sshd with Debian's default configuration.

No anti-virus is installed: the ClamAV packages are taken out of dpkg's status database (what
dpkg-query reads; their files stay in the shared base, as after an incomplete removal). rsyslog,
fail2ban and psad are installed but nothing else runs and nothing is configured, so every task fails.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c

NAME = "minimal"
DAEMONS = ("sshd",)
INIT: tuple[str, ...] = ()
EXPECTED = {
    "PT-AUTH": "fail",
    "PT-AV": "fail",
    "PT-LOG": "fail",
    "PT-USB": "fail",
    "PT-FIREWALL": "fail",
    "PT-IDS": "fail",
}
REASONS = {
    "PT-AUTH": "Debian defaults: permitrootlogin without-password, passwordauthentication yes",
    "PT-AV": "no anti-virus package installed, no clamd, no scheduled scan and no daily.* database",
    "PT-LOG": "no syslog daemon runs and no forwarding rule exists",
    "PT-USB": "no install directive: modprobe -n -v reports the module not found",
    "PT-FIREWALL": "no ruleset loaded",
    "PT-IDS": "fail2ban and psad installed but not running",
}


REMOVED_PACKAGES = ("clamav", "clamav-daemon")


def configure(root: Path, ctx: c.HostContext) -> None:
    """Nothing beyond the base, less the anti-virus packages."""
    c.dpkg_forget(root, REMOVED_PACKAGES)

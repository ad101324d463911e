"""avloadedold: clamd runs with a 30-day-old database loaded; a fresh daily.cud sits on disk.

freshclam (here: the lab init) put a fresh ``daily.cud`` into /var/lib/clamav after clamd had
loaded the old one, and clamd never reloaded (SelfCheck 3600): what scans files is the old
database. A reading of the folder says fresh; clamd's own VERSION answer says 30 days old.

dpkg: clamav is "install reinstreq installed" (broken, must be reinstalled) and clamav-daemon
"deinstall ok config-files" (removed, configuration left): both stanzas are in dpkg's status file
and the binaries are on disk, but neither package is installed as dpkg reads it.
"""

from __future__ import annotations

from pathlib import Path

from . import _av
from . import common as c

NAME = "avloadedold"
DAEMONS = ("sshd",)
# clamd loads the old database before it forks (the parent returns when it serves); then the fresh one lands.
INIT = (
    "/usr/sbin/clamd </dev/null >>/var/log/lab-clamd.log 2>&1 || echo 'lab-init: clamd failed'",
    "cp -p /var/lib/clamav-next/daily.cud /var/lib/clamav/daily.cud || echo 'lab-init: fresh database failed'",
)
EXPECTED = {"PT-AV": "fail"}
REASONS = {"PT-AV": "clamd has loaded a 30-day-old daily database; the fresh daily.cud on disk is not loaded"}
CHECKS = {
    "LNX-AV-INSTALLED": "fail",
    "LNX-AV-ACTIVE": "pass",
    "LNX-AV-SIGNATURES-FRESH": "fail",
}


def configure(root: Path, ctx: c.HostContext) -> None:
    c.clamd_conf(root)
    _av.database_in(root, "/var/lib/clamav-next", built=c.days_ago(ctx, 1 / 24))
    c.clamav_db(root, built=c.days_ago(ctx, 30))
    _av.dpkg_status(root, "clamav", "install reinstreq installed")
    _av.dpkg_status(root, "clamav-daemon", "deinstall ok config-files")

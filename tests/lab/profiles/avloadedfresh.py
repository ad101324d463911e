"""avloadedfresh: clamd loads a fresh database from /srv/clamav; /var/lib/clamav holds an old one.

clamd.conf names ``DatabaseDirectory /srv/clamav`` at its top and Debian's
``DatabaseDirectory /var/lib/clamav`` further down: clamd keeps the first value, so it loads
/srv/clamav (fresh, 1 hour). A reading of /var/lib/clamav (30 days old), or of the last
``DatabaseDirectory`` line, says old.

dpkg: clamav and clamav-daemon are "hold ok installed" (installed, held at their version):
installed, though dpkg-query abbreviates them "hi", not "ii".
"""

from __future__ import annotations

from pathlib import Path

from . import _av
from . import common as c

NAME = "avloadedfresh"
DAEMONS = ("sshd", "clamd")
INIT: tuple[str, ...] = ()
EXPECTED = {"PT-AV": "pass"}
REASONS = {"PT-AV": "clamd (first DatabaseDirectory: /srv/clamav) has loaded a database built an hour ago"}
CHECKS = {
    "LNX-AV-INSTALLED": "pass",
    "LNX-AV-ACTIVE": "pass",
    "LNX-AV-SIGNATURES-FRESH": "pass",
}


def configure(root: Path, ctx: c.HostContext) -> None:
    c.clamd_conf(root)
    _av.clamd_conf_first(root, "# local mirror\nDatabaseDirectory /srv/clamav")
    _av.database_in(root, "/srv/clamav", built=c.days_ago(ctx, 1 / 24))
    c.clamav_db(root, built=c.days_ago(ctx, 30))
    for package in ("clamav", "clamav-daemon"):
        _av.dpkg_status(root, package, "hold ok installed")

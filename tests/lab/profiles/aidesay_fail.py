"""aidesay_fail: a compliant host whose AIDE reads a baseline that is not there.

/var/lib/aide/aide.db is fresh and aide.conf names it, but only after an earlier line
``database_in=file:/srv/aide/aide.db.gz`` (a move to /srv half done): AIDE keeps the FIRST
database_in and ignores the rest ("option already set"), so its check has no baseline. The fixed
list of paths (or a last-value reading of aide.conf) says pass; AIDE's own reading fails the check.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "aidesay_fail"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}
EXPECTED_CHECKS = {"LNX-FILE-INTEGRITY-BASELINE": "fail"}
MISSING_DB = "/srv/aide/aide.db.gz"


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    c.write(root, "/etc/aide/aide.conf", f"# the baseline moves to /srv\ndatabase_in=file:{MISSING_DB}\n" + c.AIDE_CONF)

"""aidesay_pass: a compliant host whose AIDE baseline lives where no fixed list of paths looks.

/var/lib/aide holds no database. /etc/aide/aide.conf includes /etc/aide/aide.conf.d first
(``@@x_include``), whose ``00_dbdir`` sets ``database_in=file:/srv/aide/aide.db`` (fresh); the
standard ``database_in=file:@@{DBDIR}/aide.db`` after it is ignored by AIDE (first value wins). A
``99_old.conf`` naming /var/lib/aide/aide.db.gz is skipped: its name has a dot, which the include's
regex rejects. The daily check job runs with that configuration: the check passes though no file
exists at /var/lib/aide/aide.db*.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "aidesay_pass"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}
EXPECTED_CHECKS = {"LNX-FILE-INTEGRITY-BASELINE": "pass"}
DB = "/srv/aide/aide.db"


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    (root / "var/lib/aide/aide.db").unlink()
    conf = c.AIDE_CONF.replace("@@x_include /etc/aide/aide.conf.d ^[a-zA-Z0-9_-]+$\n", "")
    c.write(root, "/etc/aide/aide.conf", "@@x_include /etc/aide/aide.conf.d ^[a-zA-Z0-9_-]+$\n" + conf)
    c.write(root, "/etc/aide/aide.conf.d/00_dbdir", f"database_in=file:{DB}\n")
    c.write(root, "/etc/aide/aide.conf.d/99_old.conf", "database_in=file:/var/lib/aide/aide.db.gz\n")
    c.write(root, DB, c.AIDE_DB, 0o600)

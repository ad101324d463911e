"""cronsay_fail: a compliant host whose backup and AIDE check are in files a grep reads and cron does not run.

- the backup job is in /etc/cron.d/backup.disabled (a dot in the name: cron skips it) and in
  /etc/cron.d/nightly, group-writable (cron logs "INSECURE MODE" and ignores it); the archive is fresh;
- /etc/cron.daily/aide is not executable: run-parts skips it, so the AIDE baseline is never checked.
A grep of the cron files finds both jobs; LNX-BACKUP-RECENT and LNX-FILE-INTEGRITY-BASELINE fail.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "cronsay_fail"
DAEMONS = (*compliant.DAEMONS, "cron")
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}
EXPECTED_CHECKS = {"LNX-BACKUP-RECENT": "fail", "LNX-FILE-INTEGRITY-BASELINE": "fail"}


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    (root / "etc/cron.d/backup").rename(root / "etc/cron.d/backup.disabled")
    c.write(root, "/etc/cron.d/nightly", c.BACKUP_CRON, 0o664)
    (root / "etc/cron.daily/aide").chmod(0o644)

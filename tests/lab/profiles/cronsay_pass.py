"""cronsay_pass: a compliant host whose backup runs from /etc/cron.hourly, where the old grep of the
cron files did not look: /etc/crontab's run-parts line runs the executable script, whose body calls
restic. LNX-BACKUP-RECENT passes (the archive is fresh) though a grep finds no backup job.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "cronsay_pass"
DAEMONS = (*compliant.DAEMONS, "cron")
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}
EXPECTED_CHECKS = {"LNX-BACKUP-RECENT": "pass", "LNX-FILE-INTEGRITY-BASELINE": "pass"}
HOURLY_BACKUP = "#!/bin/sh\n# hourly snapshot of /etc\nexec /usr/bin/restic -r /srv/backup/restic backup /etc\n"


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    (root / "etc/cron.d/backup").unlink()
    c.write(root, "/etc/cron.hourly/site-backup", HOURLY_BACKUP, 0o755)

"""avnoclamd: clamd does not run; the only scan jobs are ones cron does not run.

- Scan job: ``/etc/cron.d/clamscan.dpkg-old`` (cron ignores names with a dot) and a commented line
  in /etc/crontab. Nothing scans.
- Signatures: clamd.conf's first ``DatabaseDirectory`` is /srv/clamav (30 days old): that is what
  clamd loads when it starts. freshclam.conf writes to /var/lib/clamav, where a database built an
  hour ago sits that clamd does not read.
"""

from __future__ import annotations

from pathlib import Path

from . import _av
from . import common as c

NAME = "avnoclamd"
DAEMONS = ("sshd",)
INIT: tuple[str, ...] = ()
EXPECTED = {"PT-AV": "fail"}
REASONS = {"PT-AV": "no clamd, the only scan jobs are ignored by cron; clamd's database folder is 30 days old"}
CHECKS = {
    "LNX-AV-INSTALLED": "pass",
    "LNX-AV-ACTIVE": "fail",
    "LNX-AV-SIGNATURES-FRESH": "fail",
}


def configure(root: Path, ctx: c.HostContext) -> None:
    c.clamd_conf(root)
    _av.clamd_conf_first(root, "DatabaseDirectory /srv/clamav")
    _av.database_in(root, "/srv/clamav", built=c.days_ago(ctx, 30))
    c.clamav_db(root, built=c.days_ago(ctx, 1 / 24))
    c.clamscan_cron(root, "/etc/cron.d/clamscan.dpkg-old")
    c.append(root, "/etc/crontab", "#30 3 * * * root /usr/bin/clamscan -r -i /srv >/dev/null 2>&1\n")

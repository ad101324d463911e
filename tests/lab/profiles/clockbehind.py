"""clockbehind: a compliant host whose clock reads 38 days behind the auditor's.

A network namespace cannot have a wall clock of its own (time namespaces shift only the monotonic
and boot clocks), so the host's ``date`` is a shim in /usr/local/bin (first on the audit script's
PATH) that prints the real time shifted by ``SKEW``: the auditor reads the host's clock exactly
as on any host, through ``date +%s`` in its script. Files the host "wrote" are dated as that clock
would have dated them. Signatures were built 40 days ago (by ClamAV's clock, in the header): on
the host's clock they look 2 days old.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "clockbehind"
SKEW = -38 * c.DAY
SIGNATURES_BUILT_DAYS_AGO = 40
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
# The lab's six plan tasks: PT-AV fails (40-day-old signatures), the rest is the compliant host's.
EXPECTED = {**compliant.EXPECTED, "PT-AV": "fail"}
REASONS = {"PT-AV": "daily signatures built 40 days ago; the host's clock, 38 days behind, calls them 2 days old"}


def date_shim(root: Path, skew: float) -> None:
    """/usr/local/bin/date: the real date, shifted by ``skew`` seconds."""
    c.write(
        root,
        "/usr/local/bin/date",
        "#!/bin/sh\n# lab: this host's clock is off by a fixed number of seconds\n"
        f'exec /bin/date -d "@$(( $(/bin/date +%s) + {int(skew)} ))" "$@"\n',
        0o755,
    )


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    date_shim(root, SKEW)
    built = c.days_ago(ctx, SIGNATURES_BUILT_DAYS_AGO)
    (root / "var/lib/clamav/daily.cud").unlink()
    c.clamav_db(root, built=built, filename="daily.cld")
    # The backup the host made "just now", stamped by its clock: 0 days old on it, 38 on the auditor's.
    c.backup_archive(root, "/srv/backup/etc-yesterday.tar.gz", ctx.now + SKEW)

"""clockahead: a compliant host whose clock reads 20 days ahead of the auditor's (see clockbehind).

Signatures built 2 days ago look 22 days old on the host's clock: measured against the auditor's,
they are fresh. The package lists, fetched now, look 20 days old to the host.
"""

from __future__ import annotations

from pathlib import Path

from . import clockbehind, compliant
from . import common as c

NAME = "clockahead"
SKEW = 20 * c.DAY
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    clockbehind.date_shim(root, SKEW)
    c.clamav_db(root, built=c.days_ago(ctx, 2))

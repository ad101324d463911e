"""logkeep_pass: compliant, where a line reader of the logrotate and audit files says "fail" and the programs
do not.

- logrotate keeps /var/log/syslog and /var/log/auth.log 26 weeks from /etc/logrotate.local, which
  logrotate.conf includes before /etc/logrotate.d: logrotate keeps the first block naming a log and rejects
  logrotate.d/rsyslog's (stock "rotate 4") as a duplicate. A reader of logrotate.conf and logrotate.d/*
  finds 4 weeks.
- auditd: the only rule is a recursive watch on /etc/ ("-w /etc/ -p wa"), which covers /etc/passwd and the
  rest; a grep for "-w /etc/passwd" finds nothing. auditd cannot run in the lab, so the auditor can only
  say "unknown" (a rule on disk that nothing is known to have loaded), never "fail".
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "logkeep_pass"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    c.replace_in(root, "/etc/logrotate.d/rsyslog", "rotate 26", "rotate 4")
    c.replace_in(
        root,
        "/etc/logrotate.conf",
        "include /etc/logrotate.d",
        "include /etc/logrotate.local\ninclude /etc/logrotate.d",
    )
    keep = "/var/log/syslog\n/var/log/auth.log\n{\n\tweekly\n\trotate 26\n\tmissingok\n}\n"
    c.write(root, "/etc/logrotate.local", keep)
    (root / "etc/audit/rules.d/50-identity.rules").unlink()
    c.write(root, "/etc/audit/rules.d/50-etc.rules", "-w /etc/ -p wa -k etc\n", 0o640)

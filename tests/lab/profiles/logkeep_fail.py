"""logkeep_fail: compliant but for log retention and audit rules, where a line reader of the files says
"pass" and the programs say "fail".

- logrotate: "rotate 52" for /var/log/syslog and /var/log/auth.log sits in /etc/logrotate.d/00-keep.disabled,
  which logrotate skips (a taboo extension); logrotate.d/rsyslog keeps them 4 weeks.
- auditd: the watches on the account files are in /etc/audit/audit.rules, which augenrules regenerates from
  rules.d at every start, and in rules.d/identity.rules.bak, which augenrules does not read (not *.rules).
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "logkeep_fail"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    c.replace_in(root, "/etc/logrotate.d/rsyslog", "rotate 26", "rotate 4")
    keep = "/var/log/syslog /var/log/auth.log {\n\tweekly\n\trotate 52\n}\n"
    c.write(root, "/etc/logrotate.d/00-keep.disabled", keep)
    (root / "etc/audit/rules.d/50-identity.rules").unlink()
    c.write(root, "/etc/audit/rules.d/identity.rules.bak", c.AUDIT_IDENTITY_RULES, 0o640)
    c.write(root, "/etc/audit/audit.rules", "-D\n" + c.AUDIT_IDENTITY_RULES, 0o640)

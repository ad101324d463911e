"""logread_pass: compliant, where a line reader of the files says "fail" and rsyslog and sudo say "pass".

- rsyslog forwards to log_server from /etc/rsyslog-remote/forward.conf, which /etc/rsyslog.d/10-remote.conf
  includes with include(file=...): rsyslogd -N1 -o names it; a reader of rsyslog.conf and rsyslog.d/* never
  opens it.
- sudo: "Defaults !syslog" sits in /etc/sudoers.d/nosyslog.conf, which sudo skips (a "." in the name):
  sudo -V still logs to syslog (authpriv); a grep of sudoers.d/* finds "!syslog" and no log file.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "logread_pass"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = dict(compliant.EXPECTED)
REASONS: dict[str, str] = {}


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    (root / "etc/rsyslog.d/50-remote.conf").unlink()
    c.rsyslog_rule(root, "10-remote.conf", 'include(file="/etc/rsyslog-remote/*.conf")\n')
    c.write(root, "/etc/rsyslog-remote/forward.conf", f"*.* @@{ctx.log_server}:514\n")
    (root / "etc/sudoers.d/logging").unlink()
    c.write(root, "/etc/sudoers.d/nosyslog.conf", "Defaults !syslog\n", 0o440)

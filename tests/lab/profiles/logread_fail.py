"""logread_fail: compliant, where a line reader of the files says "pass" and rsyslog and sudo say otherwise.

- rsyslog: the only forwarding rule to log_server, in /etc/rsyslog.d/50-remote.conf, has a parameter
  rsyslog does not know: rsyslogd -N1 reports the error and creates no action (nothing is forwarded).
  A reader of the file sees an omfwd action to log_server.
- sudo: "Defaults logfile=/var/log/sudo.log" is in /etc/sudoers.d/log.conf, which sudo skips (a "." in the
  name), and /etc/sudoers.d/logging says "Defaults !syslog": sudo logs nowhere. A grep finds the log file.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import compliant

NAME = "logread_fail"
DAEMONS = compliant.DAEMONS
INIT = compliant.INIT
EXPECTED = {**compliant.EXPECTED, "PT-LOG": "fail"}
REASONS = {"PT-LOG": "the only forwarding action has a parameter rsyslog rejects: no action is created"}


def configure(root: Path, ctx: c.HostContext) -> None:
    compliant.configure(root, ctx)
    c.rsyslog_rule(
        root, "50-remote.conf",
        f'action(type="omfwd" target="{ctx.log_server}" port="514" protocol="tcp" keepAlive.tyme="60")\n',
    )  # fmt: skip
    c.write(root, "/etc/sudoers.d/log.conf", "Defaults logfile=/var/log/sudo.log\n", 0o440)
    c.write(root, "/etc/sudoers.d/logging", "Defaults !syslog\n", 0o440)

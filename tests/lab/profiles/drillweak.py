"""drillweak: every drill scenario fails (tests/lab/test_drill.py).

- av-eicar: no anti-virus scanner at all (clamscan, clamdscan and clamd removed from the root).
- backup-restore: the newest archive is cut short (a corrupt gzip stream); an older one would restore,
  so a drill that picked any archive but the newest would pass.
- firewall-block: no ruleset: the listener is reachable from the drill source.
- ids-scan: psad installed and configured, not running.
- log-delivery: rsyslogd runs and writes locally, but its only forwarding rule is commented out.
- ids-bruteforce: fail2ban installed and configured but not running.
"""

from __future__ import annotations

from pathlib import Path

from . import _drill
from . import common as c

NAME = "drillweak"
DAEMONS = ("rsyslogd", "sshd")
INIT: tuple[str, ...] = ()
EXPECTED: dict[str, str] = {}
REASONS: dict[str, str] = {}
DRILL = {
    "av-eicar": "fail",
    "backup-restore": "fail",
    "firewall-block": "fail",
    "ids-bruteforce": "fail",
    "ids-scan": "fail",
    "log-delivery": "fail",
}


def configure(root: Path, ctx: c.HostContext) -> None:
    for program in ("usr/bin/clamscan", "usr/bin/clamdscan", "usr/sbin/clamd"):
        (root / program).unlink(missing_ok=True)
    c.fail2ban_trust_auditor(root, ctx)
    c.psad_conf(root, ctx.name)
    c.rsyslog_rule(root, "50-remote.conf", f"#*.* @@{ctx.log_server}:514\n")
    c.write(root, _drill.CANARY, "drill canary\n")
    members = {_drill.CANARY: b"drill canary\n", "/etc/hostname": f"{ctx.name}\n".encode()}
    _drill.archive(root, "/srv/backup/etc-old.tar.gz", _drill.tar_gz(members, c.days_ago(ctx, 8)), c.days_ago(ctx, 8))
    good = _drill.tar_gz(members, c.days_ago(ctx, 1))
    _drill.archive(root, "/srv/backup/etc-yesterday.tar.gz", good[: len(good) // 2], c.days_ago(ctx, 1))

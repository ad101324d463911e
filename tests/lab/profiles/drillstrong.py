"""drillstrong: every drill scenario passes (tests/lab/test_drill.py).

- av-eicar: clamscan with the lab's database (daily.hdb holds the EICAR MD5 signature: common.clamav_db).
- backup-restore: /srv/backup's newest archive is a real tar.gz holding /etc/drill-canary as it is on the host.
- firewall-block: nftables input policy drop, only SSH accepted.
- ids-scan: psad reads /var/log/messages, where rsyslogd's imkmsg writes the kernel's log (a /dev/kmsg node
  made at init; reading it consumes nothing) and the input chain logs what it drops. The kernel logs netfilter
  of a non-initial namespace only with net.netfilter.nf_log_all_netns=1 (test_drill.py sets it for that test).
- log-delivery: rsyslogd forwards everything to the lab's log server over TCP.
- ids-bruteforce: fail2ban's sshd jail reads /var/log/auth.log (rsyslogd writes it); the auditor's own
  address is whitelisted, the drill source is not.
"""

from __future__ import annotations

from pathlib import Path

from . import _drill
from . import common as c

NAME = "drillstrong"
DAEMONS = ("rsyslogd", "sshd", "clamd", "fail2ban-server", "psad")
INIT = (c.NFT_LOAD, "[ -e /dev/kmsg ] || mknod -m 600 /dev/kmsg c 1 11")
EXPECTED: dict[str, str] = {}
REASONS: dict[str, str] = {}
DRILL = {
    "av-eicar": "pass",
    "backup-restore": "pass",
    "firewall-block": "pass",
    "ids-bruteforce": "pass",
    "ids-scan": "pass",
    "log-delivery": "pass",
}
# imkmsg, not imklog: /proc/kmsg is the machine's and a read takes the message from everyone else.
KERNEL_LOG = 'module(load="imkmsg")\nkern.* /var/log/messages\n'
CANARY_TEXT = b"drill canary: restored copies must match this file\n"


def configure(root: Path, ctx: c.HostContext) -> None:
    c.clamd_conf(root)
    c.clamav_db(root, built=c.days_ago(ctx, 1 / 24))
    c.nftables(root, c.nft_input_drop('log prefix "DROP "'))
    c.psad_conf(root, ctx.name)
    c.write(root, "/etc/rsyslog.d/10-kernel.conf", KERNEL_LOG)
    c.fail2ban_trust_auditor(root, ctx)
    c.rsyslog_rule(root, "50-remote.conf", f"*.* @@{ctx.log_server}:514\n")
    c.write(root, _drill.CANARY, CANARY_TEXT.decode())
    members = {_drill.CANARY: CANARY_TEXT, "/etc/hostname": f"{ctx.name}\n".encode()}
    _drill.archive(root, "/srv/backup/etc-old.tar.gz", _drill.tar_gz(members, c.days_ago(ctx, 8)), c.days_ago(ctx, 8))
    newest = _drill.tar_gz(members, c.days_ago(ctx, 1))
    _drill.archive(root, "/srv/backup/etc-yesterday.tar.gz", newest, c.days_ago(ctx, 1))

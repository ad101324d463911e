"""compliant: every plan task is configured the way design §5 requires."""

from __future__ import annotations

from pathlib import Path

from . import common as c

NAME = "compliant"
DAEMONS = ("rsyslogd", "sshd", "clamd", "fail2ban-server", "psad")
INIT = (c.NFT_LOAD,)
EXPECTED = {
    "PT-AUTH": "pass",
    "PT-AV": "pass",
    "PT-LOG": "pass",
    "PT-USB": "pass",
    "PT-FIREWALL": "pass",
    "PT-IDS": "pass",
}
REASONS: dict[str, str] = {}


def configure(root: Path, ctx: c.HostContext) -> None:
    # PT-AUTH: a hardening drop-in; Debian's sshd_config leaves both commented.
    c.sshd_dropin(root, "10-hardening.conf", c.HARDENED_SSHD)
    # PT-AV: real clamd with a database built an hour ago.
    c.clamd_conf(root)
    c.clamav_db(root, built=c.days_ago(ctx, 1 / 24))
    # PT-LOG: legacy TCP forwarding to the log server.
    c.rsyslog_rule(root, "50-remote.conf", f"*.* @@{ctx.log_server}:514\n")
    # PT-USB
    c.modprobe_conf(root, "usb-storage.conf", c.USB_BLOCK)
    # PT-FIREWALL: input policy drop, ssh allowed.
    c.nftables(root, c.nft_input_drop())
    # PT-IDS: fail2ban and psad both run.
    c.fail2ban_trust_auditor(root, ctx)
    c.psad_conf(root, ctx.name)

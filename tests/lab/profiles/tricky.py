"""tricky: looks compliant to a naive grep, is not.  Every trap must be `fail`.

Traps (different from ``noncompliant``'s):
- PT-AUTH: ``PermitRootLogin without-password`` (an alias of prohibit-password) in a
  drop-in plus ``PasswordAuthentication no``; the main file carries a comment
  "# PermitRootLogin no" that a grep finds.  Effective: permitrootlogin
  without-password.
- PT-AV: a scheduled clamscan exists (cron.d) and ``daily.cld`` was touched today,
  but its header says it was built 40 days ago; the header wins over the mtime.
- PT-LOG: rsyslogd runs; a correct rule to log_server sits in
  ``rsyslog.d/60-remote.conf.disabled`` (not included: only *.conf is), and the
  active rule in ``50-remote.conf`` forwards to another server.
- PT-USB: ``install usb-storage /bin/false`` in ``/etc/modprobe.d/usb-storage``
  (no ``.conf`` suffix: modprobe ignores it).
- PT-FIREWALL: input chain ``policy drop`` whose first rule is an unconditional
  ``accept``.
- PT-IDS: stale pidfile ``/run/fail2ban/fail2ban.pid`` (and an old fail2ban.log)
  with no such process; nothing IDS-like runs.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c

NAME = "tricky"
DAEMONS = ("rsyslogd", "sshd", "cron")
INIT = (
    c.NFT_LOAD,
    # /run is a fresh tmpfs at boot, so the stale pidfile is made by init.
    "mkdir -p /run/fail2ban && echo 4242 > /run/fail2ban/fail2ban.pid",
)
EXPECTED = {
    "PT-AUTH": "fail",
    "PT-AV": "fail",
    "PT-LOG": "fail",
    "PT-USB": "fail",
    "PT-FIREWALL": "fail",
    "PT-IDS": "fail",
}
REASONS = {
    "PT-AUTH": "effective permitrootlogin without-password (= prohibit-password), not no",
    "PT-AV": "daily.cld header build time 40 days old although its mtime is today",
    "PT-LOG": "active rule forwards to another server; the rule to log_server is in a .disabled file",
    "PT-USB": "install directive in a file without .conf suffix: modprobe ignores it",
    "PT-FIREWALL": "policy drop, but the first rule accepts everything",
    "PT-IDS": "only a stale fail2ban pidfile; no IDS process runs",
}


def configure(root: Path, ctx: c.HostContext) -> None:
    c.sshd_dropin(root, "10-hardening.conf", "PermitRootLogin without-password\nPasswordAuthentication no\n")
    c.sshd_main_append(root, "\n# PermitRootLogin no   <- required by policy 3.1, see drop-in\n")
    c.clamav_db(root, built=c.days_ago(ctx, 40), filename="daily.cld", mtime=ctx.now)
    c.clamscan_cron(root)
    c.rsyslog_rule(root, "60-remote.conf.disabled", f"*.* @@{ctx.log_server}:514\n")
    c.rsyslog_rule(
        root,
        "50-remote.conf",
        f'action(type="omfwd" target="{ctx.other_server}" port="514" protocol="tcp"\n'
        '       action.resumeRetryCount="-1" queue.type="LinkedList" queue.size="1000")\n',
    )
    c.modprobe_conf(root, "usb-storage", c.USB_BLOCK)
    c.nftables(
        root,
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n"
        "\t\taccept\n\t\ttcp dport 22 accept\n\t}\n}\n",
    )
    c.write(
        root,
        "/var/log/fail2ban.log",
        "2024-01-02 03:04:05,678 fail2ban.server [412]: INFO Starting Fail2ban v1.0.2\n",
    )

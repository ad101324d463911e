"""noncompliant: every plan task fails, each in its own realistic way.

Traps (all must be `fail`):
- PT-AUTH: drop-in ``sshd_config.d/00-local.conf`` says ``PermitRootLogin yes``; the
  main file's later ``PermitRootLogin no`` loses (sshd: first value wins, and the
  ``Include`` sits at the top of Debian's sshd_config).
- PT-AV: clamd runs, but daily.cud was built 30 days ago (header and mtime); a
  freshly touched ``freshclam.dat`` sits beside it to fool "newest file in folder".
- PT-LOG: rsyslogd runs; the forwarding rule is commented out.
- PT-USB: ``blacklist usb-storage`` alone (does not stop an explicit modprobe).
- PT-FIREWALL: an nftables input chain with ``policy accept`` and no drop rule.
- PT-IDS: fail2ban and psad are installed (their configs exist) but not running.

Host hardening (tests/lab/test_linux_checks.py, every one a `fail`): an account ``guest`` with an
empty password and ``toor`` with UID 0; Debian's defaults for password ageing, PAM (no faillock),
sshd session timeouts, MACs (hmac-sha1, umac-64), AllowUsers, banner, core dumps, audit rules and
log rotation (4 weeks); /etc/shadow mode 644 and a world-writable /etc/cron.d/backup; IP forwarding
on; "Defaults !syslog" for sudo; chrony and AIDE installed but chronyd not running and no AIDE
database; the backup job's newest archive is 40 days old; unattended-upgrades switched off; a pending
security update (hostname, from a local Debian-Security archive, lists fresh).
"""

from __future__ import annotations

import os
from pathlib import Path

from . import common as c

NAME = "noncompliant"
DAEMONS = ("rsyslogd", "sshd", "clamd")
INIT = (c.NFT_LOAD, "/usr/sbin/sysctl -q -w net.ipv4.ip_forward=1 || echo 'lab-init: sysctl failed'")
EXPECTED = {
    "PT-AUTH": "fail",
    "PT-AV": "fail",
    "PT-LOG": "fail",
    "PT-USB": "fail",
    "PT-FIREWALL": "fail",
    "PT-IDS": "fail",
}
REASONS = {
    "PT-AUTH": "effective permitrootlogin yes (00-local.conf read before the main file's 'no')",
    "PT-AV": "daily.cud built 30 days ago; only freshclam.dat is fresh",
    "PT-LOG": "the only forwarding rule is commented out",
    "PT-USB": "'blacklist usb-storage' alone: modprobe -n -v does not print install /bin/false",
    "PT-FIREWALL": "input chain policy accept, no drop/reject rule",
    "PT-IDS": "fail2ban and psad installed but not running",
}


def configure(root: Path, ctx: c.HostContext) -> None:
    c.sshd_dropin(root, "00-local.conf", "# local override\nPermitRootLogin yes\n")
    c.sshd_main_append(root, "\n# hardening (policy 3.1)\nPermitRootLogin no\nPasswordAuthentication no\n")
    c.clamd_conf(root)
    c.clamav_db(root, built=c.days_ago(ctx, 30))
    fresh = root / "var/lib/clamav/freshclam.dat"
    fresh.write_bytes(b"\0" * 64)
    os.utime(fresh, (ctx.now, ctx.now))
    c.rsyslog_rule(
        root,
        "50-remote.conf",
        f"# central logging (disabled during migration)\n#*.* @@{ctx.log_server}:514\n",
    )
    c.modprobe_conf(root, "usb-storage.conf", "blacklist usb-storage\n")
    c.nftables(
        root,
        "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
        "\t\ttcp dport 22 accept\n\t}\n}\n",
    )
    # Host hardening, each wrong in its own way (see the docstring).
    c.add_account(root, "guest", 1500, "")
    c.add_account(root, "toor", 0, "*")
    (root / "etc/shadow").chmod(0o644)  # "restored from a backup" with the wrong mode
    c.write(root, "/etc/cron.d/backup", c.BACKUP_CRON, 0o666)
    c.backup_archive(root, "/srv/backup/etc-old.tar.gz", c.days_ago(ctx, 40))
    c.write(root, "/etc/sudoers.d/quiet", "Defaults !syslog\n", 0o440)
    c.write(
        root,
        "/etc/apt/apt.conf.d/20auto-upgrades",
        'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "0";\n',
    )
    # PT-VULN: the local security archive offers a newer hostname: a pending security update.
    c.apt_security_repo(root, upgrade=True)

"""compliant: every plan task is configured the way its verdict rules require for a pass."""

from __future__ import annotations

from pathlib import Path

from . import common as c

NAME = "compliant"
DAEMONS = ("rsyslogd", "sshd", "clamd", "fail2ban-server", "psad", "chronyd", "cron")
INIT = (c.NFT_LOAD, c.NET_SYSCTL_HARDENED, c.CHRONY_RUNDIR)
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

    # Host hardening (LNX-* checks beyond the six tasks; tests/lab/test_linux_checks.py).
    c.sshd_dropin(root, "20-session.conf", c.HARDENED_SSHD_SESSION)
    c.write(root, "/etc/issue.net", c.LEGAL_NOTICE)
    c.replace_in(root, "/etc/login.defs", "PASS_MAX_DAYS\t99999", "PASS_MAX_DAYS\t90")
    # A preauth line alone never records a failure, so it locks nobody out: the whole faillock stack.
    c.replace_in(root, "/etc/pam.d/common-auth", c.DEBIAN_UNIX_AUTH, c.FAILLOCK_AUTH)
    c.write(root, "/etc/security/limits.d/90-nocore.conf", "* hard core 0\n")
    c.write(root, "/etc/sysctl.d/90-nocore.conf", "fs.suid_dumpable = 0\n")
    c.write(root, "/etc/sysctl.d/90-network.conf", c.NET_SYSCTL_PERSISTED)  # INIT sets the same now
    c.write(root, "/etc/sudoers.d/logging", "Defaults logfile=/var/log/sudo.log\n", 0o440)
    c.write(root, "/etc/audit/rules.d/50-identity.rules", c.AUDIT_IDENTITY_RULES, 0o640)
    # The log server is the lab's NTP server: chronyd here selects it (LNX-TIME-SYNC asks chronyc).
    c.write(root, "/etc/chrony/sources.d/agency.sources", c.chrony_client_line(ctx.log_server))
    c.write(root, "/etc/aide/aide.conf", c.AIDE_CONF)  # names /var/lib/aide/aide.db
    (root / "etc/aide/aide.conf.d").mkdir(exist_ok=True)
    c.write(root, "/var/lib/aide/aide.db", c.AIDE_DB, 0o600)
    c.write(root, "/etc/cron.daily/aide", c.AIDE_DAILY, 0o755)  # a baseline is checked against daily
    c.replace_in(root, "/etc/logrotate.d/rsyslog", "rotate 4", "rotate 26")  # weekly x 26 = 182 days
    c.write(root, "/etc/cron.d/backup", c.BACKUP_CRON)
    c.backup_archive(root, "/srv/backup/etc-yesterday.tar.gz", c.days_ago(ctx, 1))
    c.write(
        root,
        "/etc/apt/apt.conf.d/20auto-upgrades",
        'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n',
    )
    # PT-VULN: a local security archive offering the installed version only; lists fresh.
    c.apt_security_repo(root, upgrade=False)

"""logserver: the lab's central syslog server (TCP and UDP 514, one file per sender).

Otherwise hardened like ``compliant``, with a scheduled clamscan instead of clamd
and psad as its IDS.  It forwards its own logs nowhere, so PT-LOG fails: the rule
asks for a forwarding rule to ``log_server`` and a log server is no exception.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c

NAME = "logserver"
DAEMONS = ("rsyslogd", "sshd", "cron", "psad", "chronyd")
INIT = (c.NFT_LOAD, c.CHRONY_RUNDIR)
EXPECTED = {
    "PT-AUTH": "pass",
    "PT-AV": "pass",
    "PT-LOG": "fail",
    "PT-USB": "pass",
    "PT-FIREWALL": "pass",
    "PT-IDS": "pass",
}
REASONS = {
    "PT-LOG": "receives logs but has no forwarding rule to log_server (it is log_server itself)",
}

RECEIVER = """\
# lab log server: receive syslog over UDP and TCP 514, one file per sender
module(load="imudp")
input(type="imudp" port="514" ruleset="remote")
module(load="imtcp")
input(type="imtcp" port="514" ruleset="remote")
template(name="PerSender" type="string" string="/var/log/remote/%FROMHOST-IP%.log")
ruleset(name="remote") {
    action(type="omfile" dynaFile="PerSender")
}
"""


def configure(root: Path, ctx: c.HostContext) -> None:
    c.sshd_dropin(root, "10-hardening.conf", c.HARDENED_SSHD)
    c.clamav_db(root, built=c.days_ago(ctx, 2))
    c.clamscan_cron(root)
    c.rsyslog_rule(root, "10-receiver.conf", RECEIVER)
    c.modprobe_conf(root, "usb-storage.conf", c.USB_BLOCK)
    c.nftables(root, c.nft_input_drop("tcp dport 514 accept", "udp dport 514 accept", "udp dport 123 accept"))
    # The lab's NTP server (the clients' LNX-TIME-SYNC): chrony on its own clock, serving the lab.
    c.write(root, "/etc/chrony/chrony.conf", c.CHRONY_LAB_SERVER)
    c.psad_conf(root, ctx.name)

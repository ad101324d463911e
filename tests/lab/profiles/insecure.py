"""insecure: clear-text services a scan must find by service detection, not by port number:
anonymous FTP on the non-standard port 2121 (vsftpd), telnet (inetutils-telnetd under
openbsd-inetd), SNMP v1/v2c with community 'public' (snmpd), and a plain-HTTP login page on
8080 (nginx).

Host tasks as ``minimal``.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import network as n
from .minimal import EXPECTED, REASONS

NAME = "insecure"
DAEMONS = ("sshd", "vsftpd", "inetd", "snmpd", "nginx")
INIT = ("mkdir -p /run/vsftpd/empty /srv/ftp",)
__all__ = ["EXPECTED", "REASONS"]
EXPECTED_NETWORK = {"PT-NETWORK": "fail"}
EXPECTED_CHECKS = {
    "NET-NO-CLEARTEXT-SERVICES": "fail",  # telnet 23, FTP 2121, HTTP login form 8080
    "NET-FTP-NO-ANONYMOUS": "fail",  # on 2121
    "NET-SNMP-NO-PUBLIC": "fail",
    "NET-ONLY-ALLOWED-PORTS": "fail",  # allowed_ports=22 for this host
}
NETWORK_REASONS = {"PT-NETWORK": "telnet, anonymous FTP on 2121, SNMP public, HTTP login page on 8080"}

VSFTPD = """\
# lab: anonymous FTP on a non-standard port
listen=YES
listen_ipv6=NO
listen_port=2121
background=YES
anonymous_enable=YES
no_anon_password=YES
anon_root=/srv/ftp
local_enable=NO
write_enable=NO
seccomp_sandbox=NO
secure_chroot_dir=/run/vsftpd/empty
pasv_enable=YES
xferlog_enable=NO
vsftpd_log_file=/var/log/vsftpd.log
"""


def configure(root: Path, ctx: c.HostContext) -> None:
    c.write(root, "/etc/vsftpd-lab.conf", VSFTPD)
    c.write(root, "/srv/ftp/pub/readme.txt", "public files (lab)\n")
    c.write(root, "/etc/inetd.conf", "telnet stream tcp nowait root /usr/sbin/telnetd telnetd\n")
    c.write(root, "/etc/snmp/snmpd.conf", "agentaddress udp:161\nrocommunity public default\nsysLocation lab\n")
    n.nginx(root, n.ADMIN_SERVER)

"""Shared by the network profiles (portal, portalbad, mailtls, mailplain, fileserver, insecure):
their truth for the network plan tasks and the daemons' configurations.

A network profile has, besides the six host tasks of ``EXPECTED``:
``EXPECTED_NETWORK`` (plan task -> verdict of the tasks the network phase decides or
joins) and ``EXPECTED_CHECKS`` (NET-* check -> verdict), asserted by test_network.py.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c

NETWORK_TASKS = ("PT-NETWORK", "PT-PORTAL-CHANNEL", "PT-MAIL-CRYPTO")

NGINX_HEAD = """\
user www-data;
worker_processes 1;
pid /run/nginx.pid;
error_log /var/log/nginx/error.log;
events { worker_connections 64; }
http {
    access_log off;
    default_type text/html;
"""

SECURE_SERVER = """\
    server {
        listen 80;
        location / { return 301 https://$host$request_uri; }
    }
    server {
        listen 443 ssl;
        ssl_certificate /etc/ssl/lab/server.pem;
        ssl_certificate_key /etc/ssl/lab/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;
        add_header Strict-Transport-Security "max-age=31536000" always;
        location / { return 200 "<h1>Cong thong tin (lab)</h1>"; }
    }
"""

# TLS 1.0 and 1.1 allowed (OpenSSL needs security level 0 for them), an anonymous and a NULL suite
# among the ciphers (named one by one: "DEFAULT" removes aNULL/eNULL for good), no HSTS,
# and plain HTTP serves the page instead of redirecting.
WEAK_SERVER = """\
    server {
        listen 80;
        location / { return 200 "<h1>Cong thong tin (lab, http)</h1>"; }
    }
    server {
        listen 443 ssl;
        ssl_certificate /etc/ssl/lab/server.pem;
        ssl_certificate_key /etc/ssl/lab/server.key;
        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
        ssl_ciphers WEAK_CIPHERS;
        location / { return 200 "<h1>Cong thong tin (lab)</h1>"; }
    }
""".replace(
    "WEAK_CIPHERS",
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA:AECDH-AES128-SHA:ECDHE-ECDSA-NULL-SHA:@SECLEVEL=0",
)

# A plain-HTTP administration page (a login form) on a non-standard port.
ADMIN_SERVER = """\
    server {
        listen 8080;
        location / { return 200 '<form method="post"><input name="user"><input type="password" name="pw"></form>'; }
    }
"""


def nginx(root: Path, *servers: str) -> None:
    c.write(root, "/etc/nginx/nginx.conf", NGINX_HEAD + "".join(servers) + "}\n")
    (root / "etc/nginx/sites-enabled/default").unlink(missing_ok=True)


POSTFIX_MASTER = """\
# lab: no chroot (the lab host has no /var/spool/postfix/etc copies)
smtp      inet  n       -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfix(root: Path, name: str, starttls: bool) -> None:
    tls = (
        "smtpd_tls_cert_file = /etc/ssl/lab/server.pem\nsmtpd_tls_key_file = /etc/ssl/lab/server.key\n"
        "smtpd_tls_security_level = may\nsmtpd_tls_protocols = >=TLSv1.2\n"
        if starttls
        else "smtpd_tls_security_level = none\n"
    )
    c.write(
        root,
        "/etc/postfix/main.cf",
        (
            f"myhostname = {name}.lab\nmydestination = localhost\ninet_interfaces = all\ninet_protocols = ipv4\n"
            "compatibility_level = 3.6\nalias_maps =\nalias_database =\nmaillog_file = /var/log/postfix.log\n"
            "smtpd_banner = $myhostname ESMTP\n" + tls
        ),
    )
    c.write(root, "/etc/postfix/master.cf", POSTFIX_MASTER)
    c.write(root, "/etc/mailname", f"{name}.lab\n")


DOVECOT = """\
# lab: IMAP and POP3, TLS with the lab certificate; STARTTLS on 143/110, implicit TLS on 993/995
protocols = imap pop3
listen = *
base_dir = /run/dovecot
log_path = /var/log/dovecot.log
ssl = yes
ssl_cert = </etc/ssl/lab/server.pem
ssl_key = </etc/ssl/lab/server.key
ssl_min_protocol = TLSv1.2
mail_location = mbox:~/mail:INBOX=/var/mail/%u
passdb {
  driver = pam
}
userdb {
  driver = passwd
}
"""


def dovecot(root: Path) -> None:
    c.write(root, "/etc/dovecot/dovecot.conf", DOVECOT)


def forward_logs(root: Path, ctx: c.HostContext) -> None:
    c.rsyslog_rule(root, "50-remote.conf", f"*.* @@{ctx.log_server}:514\n")

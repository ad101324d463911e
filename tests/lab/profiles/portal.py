"""portal: an HTTPS portal done right: a lab-CA certificate for its name and address, TLS 1.2/1.3
only, strong ciphers, HSTS, and plain HTTP redirected to HTTPS. It also forwards its logs to the
log server (rsyslog), so a logger marker arrives there (NET-LOG-MARKER-ARRIVES passes).

Host tasks otherwise as ``minimal`` (sshd defaults, nothing else configured).
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import network as n
from . import tlslab
from .minimal import EXPECTED as _MINIMAL
from .minimal import REASONS as _MINIMAL_REASONS

NAME = "portal"
DAEMONS = ("rsyslogd", "sshd", "nginx")
INIT: tuple[str, ...] = ()
EXPECTED = {**_MINIMAL, "PT-LOG": "pass"}
REASONS = {k: v for k, v in _MINIMAL_REASONS.items() if k != "PT-LOG"}
EXPECTED_NETWORK = {"PT-NETWORK": "pass", "PT-PORTAL-CHANNEL": "pass", "PT-LOG": "pass"}
EXPECTED_CHECKS = {
    "NET-NO-CLEARTEXT-SERVICES": "pass",  # 22 ssh, 80 http (a redirect, no login), 443 https
    "NET-FTP-NO-ANONYMOUS": "pass",
    "NET-SNMP-NO-PUBLIC": "pass",
    "NET-PORTAL-CERT-TRUSTED": "pass",  # issued by the lab CA, given as tls_ca_file
    "NET-PORTAL-CERT-HOSTNAME": "pass",
    "NET-PORTAL-CERT-NOT-EXPIRING": "pass",  # 365 days left
    "NET-PORTAL-TLS-PROTOCOLS": "pass",
    "NET-PORTAL-TLS-CIPHERS": "pass",
    "NET-PORTAL-HSTS": "pass",
    "NET-PORTAL-HTTP-REDIRECT": "pass",
    "NET-LOG-MARKER-ARRIVES": "pass",
}


def configure(root: Path, ctx: c.HostContext) -> None:
    tlslab.install(root, *tlslab.server_cert(ctx.name, ctx.address))
    n.nginx(root, n.SECURE_SERVER)
    n.forward_logs(root, ctx)
